// What the Deployment controller wants, as a pure function of one Deployment, the ReplicaSets it
// controls and whether Pods of old ReplicaSets still run. One call is one upstream sync: find or
// create the new ReplicaSet, then proportional scaling (when spec.replicas changed mid-rollout),
// or one step of Recreate / RollingUpdate, then history cleanup and the status with its
// Available and Progressing conditions. Each step's arithmetic follows
// pkg/controller/deployment (rolling.go, recreate.go, sync.go, util/deployment_util.go).

import type { Deployment, DeploymentCondition, ReplicaSet } from '../api/types.js';
import { ownerRefTo } from './pod-util.js';
import { computePodTemplateHash, POD_TEMPLATE_HASH_LABEL, templatesEqualIgnoringHash } from './pod-template-hash.js';

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
export const DESIRED_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/max-replicas';
/** Deployment annotations that are not copied onto its ReplicaSets. */
const NOT_COPIED = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION_ANNOTATION,
  'deployment.kubernetes.io/revision-history',
  DESIRED_REPLICAS_ANNOTATION,
  MAX_REPLICAS_ANNOTATION,
  'deprecated.deployment.rollback.to',
]);

export type DeploymentStatus = NonNullable<Deployment['status']> & { collisionCount?: number };

export interface DeploymentPlan {
  /** A new ReplicaSet to create (it already counts in the scaling decisions of this plan). */
  create?: ReplicaSet;
  /** Existing ReplicaSets with a new spec.replicas and/or annotations, to PUT. */
  update: ReplicaSet[];
  /** Names of old ReplicaSets beyond revisionHistoryLimit. */
  delete: string[];
  /** The revision annotation the Deployment should carry, when it differs. */
  deploymentRevision?: string;
  status: DeploymentStatus;
}

const replicasOf = (rs: ReplicaSet) => rs.spec.replicas ?? 0;
const sum = (rss: ReplicaSet[], f: (rs: ReplicaSet) => number) => rss.reduce((n, rs) => n + f(rs), 0);
const created = (rs: ReplicaSet) => Date.parse(rs.metadata.creationTimestamp ?? '') || 0;

/** An int-or-percent against total: percentages round up for surge, down for unavailable. */
export function resolveIntOrPercent(v: number | string | undefined, fallback: string, total: number, roundUp: boolean): number {
  const value = v ?? fallback;
  if (typeof value === 'number') return value;
  const m = /^(\d+)%$/.exec(value);
  if (!m) return Number.parseInt(value, 10) || 0;
  const exact = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

/** maxSurge and maxUnavailable as counts; both zero becomes unavailable 1 (upstream ResolveFenceposts). */
export function resolveFenceposts(d: Deployment): { maxSurge: number; maxUnavailable: number } {
  if (d.spec.strategy?.type === 'Recreate') return { maxSurge: 0, maxUnavailable: 0 };
  const replicas = d.spec.replicas ?? 1;
  const ru = d.spec.strategy?.rollingUpdate;
  const maxSurge = resolveIntOrPercent(ru?.maxSurge, '25%', replicas, true);
  let maxUnavailable = resolveIntOrPercent(ru?.maxUnavailable, '25%', replicas, false);
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  return { maxSurge, maxUnavailable: Math.min(maxUnavailable, replicas) };
}

export function revisionOf(rs: ReplicaSet): number {
  return Number.parseInt(rs.metadata.annotations?.[REVISION_ANNOTATION] ?? '', 10) || 0;
}

/** The ReplicaSet whose template is the Deployment's (the oldest one if several), and the rest. */
export function splitReplicaSets(d: Deployment, rss: ReplicaSet[]): { newRS?: ReplicaSet; oldRSs: ReplicaSet[] } {
  const sorted = [...rss].sort((a, b) => created(a) - created(b) || (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
  const newRS = sorted.find((rs) => templatesEqualIgnoringHash(rs.spec.template, d.spec.template));
  return { newRS, oldRSs: sorted.filter((rs) => rs !== newRS) };
}

/** How many replicas the new ReplicaSet should have now (upstream NewRSNewReplicas). */
export function newRSReplicas(d: Deployment, allRSs: ReplicaSet[], newRS: ReplicaSet): number {
  const replicas = d.spec.replicas ?? 1;
  if (d.spec.strategy?.type === 'Recreate') return replicas;
  const { maxSurge } = resolveFenceposts(d);
  const current = sum(allRSs, replicasOf);
  const maxTotal = replicas + maxSurge;
  if (current >= maxTotal) return replicasOf(newRS);
  const scaleUp = Math.min(maxTotal - current, replicas - replicasOf(newRS));
  return replicasOf(newRS) + scaleUp;
}

function copyAnnotations(d: Deployment): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(d.metadata.annotations ?? {})) if (!NOT_COPIED.has(k)) out[k] = v;
  return out;
}

function replicasAnnotations(d: Deployment): Record<string, string> {
  const replicas = d.spec.replicas ?? 1;
  return { [DESIRED_REPLICAS_ANNOTATION]: String(replicas), [MAX_REPLICAS_ANNOTATION]: String(replicas + resolveFenceposts(d).maxSurge) };
}

/** The new ReplicaSet for the Deployment's current template, with 0 replicas (the caller sizes it). */
export function newReplicaSetFor(d: Deployment, revision: number, collisionCount?: number): ReplicaSet {
  const hash = computePodTemplateHash(d.spec.template, collisionCount);
  const template = structuredClone(d.spec.template);
  template.metadata = { ...(template.metadata ?? {}), labels: { ...(template.metadata?.labels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash } };
  const selector = structuredClone(d.spec.selector);
  selector.matchLabels = { ...(selector.matchLabels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash };
  const rs: ReplicaSet = {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: `${d.metadata.name}-${hash}`,
      namespace: d.metadata.namespace,
      labels: { ...(template.metadata.labels ?? {}) },
      annotations: { ...copyAnnotations(d), ...replicasAnnotations(d), [REVISION_ANNOTATION]: String(revision) },
      ownerReferences: [ownerRefTo(d)],
    },
    spec: { replicas: 0, selector, template },
  };
  if (d.spec.minReadySeconds) rs.spec.minReadySeconds = d.spec.minReadySeconds;
  return rs;
}

/** Working state of one sync: the ReplicaSets as the plan leaves them, and which ones it changed. */
class Working {
  readonly changed = new Set<ReplicaSet>();
  constructor(
    readonly d: Deployment,
    public newRS: ReplicaSet | undefined,
    readonly oldRSs: ReplicaSet[],
  ) {}

  get all(): ReplicaSet[] {
    return this.newRS ? [...this.oldRSs, this.newRS] : [...this.oldRSs];
  }

  /** Sets spec.replicas and the replicas annotations, as upstream scaleReplicaSet; true when the size changed. */
  scale(rs: ReplicaSet, replicas: number): boolean {
    const wanted = replicasAnnotations(this.d);
    const ann = rs.metadata.annotations ?? {};
    const annotationsStale = Object.entries(wanted).some(([k, v]) => ann[k] !== v);
    const resized = replicasOf(rs) !== replicas;
    if (!resized && !annotationsStale) return false;
    rs.spec.replicas = replicas;
    rs.metadata.annotations = { ...ann, ...wanted };
    this.changed.add(rs);
    return resized;
  }
}

function isScalingEvent(d: Deployment, rss: ReplicaSet[]): boolean {
  const replicas = String(d.spec.replicas ?? 1);
  return rss.some((rs) => {
    const desired = rs.metadata.annotations?.[DESIRED_REPLICAS_ANNOTATION];
    return replicasOf(rs) > 0 && desired !== undefined && desired !== replicas;
  });
}

/** How many replicas rs gains (or loses) in a proportional scale (upstream getReplicaSetFraction). */
function replicaSetFraction(rs: ReplicaSet, d: Deployment): number {
  const replicas = d.spec.replicas ?? 1;
  if (replicas === 0) return -replicasOf(rs);
  const deploymentReplicas = replicas + resolveFenceposts(d).maxSurge;
  const annotated = Number.parseInt(rs.metadata.annotations?.[MAX_REPLICAS_ANNOTATION] ?? '', 10);
  const base = Number.isNaN(annotated) ? (d.status?.replicas ?? 0) : annotated;
  if (base === 0) return 0;
  return Math.round((replicasOf(rs) * deploymentReplicas) / base) - replicasOf(rs);
}

/** Upstream scale(): resize when spec.replicas changed, proportionally across active ReplicaSets mid-rollout. */
function scale(w: Working): void {
  const { d } = w;
  const replicas = d.spec.replicas ?? 1;
  const active = w.all.filter((rs) => replicasOf(rs) > 0);
  const single = active.length === 1 ? active[0] : active.length === 0 ? (w.newRS ?? [...w.oldRSs].sort((a, b) => created(b) - created(a))[0]) : undefined;
  if (single) {
    w.scale(single, replicas);
    return;
  }
  if (w.newRS && replicasOf(w.newRS) === replicas && (w.newRS.status?.availableReplicas ?? 0) === replicas) {
    for (const rs of active) if (rs !== w.newRS) w.scale(rs, 0);
    return;
  }
  if (d.spec.strategy?.type === 'Recreate') return;
  const allowed = replicas > 0 ? replicas + resolveFenceposts(d).maxSurge : 0;
  const toAdd = allowed - sum(active, replicasOf);
  if (toAdd === 0) return;
  // Larger first; on ties newer first when growing, older first when shrinking (upstream BySizeNewer/BySizeOlder).
  const order = [...active].sort((a, b) =>
    toAdd > 0 ? replicasOf(b) - replicasOf(a) || created(b) - created(a) : replicasOf(b) - replicasOf(a) || created(a) - created(b),
  );
  const sizes = new Map<ReplicaSet, number>();
  let added = 0;
  for (const rs of order) {
    let proportion = 0;
    if (replicasOf(rs) !== 0 && toAdd !== added) {
      const fraction = replicaSetFraction(rs, d);
      const left = toAdd - added;
      proportion = toAdd > 0 ? Math.min(fraction, left) : Math.max(fraction, left);
    }
    sizes.set(rs, replicasOf(rs) + proportion);
    added += proportion;
  }
  order.forEach((rs, i) => {
    let size = sizes.get(rs) ?? 0;
    if (i === 0 && added !== toAdd) size = Math.max(0, size + toAdd - added);
    w.scale(rs, size);
  });
}

function rollingStep(w: Working): boolean {
  const { d } = w;
  const replicas = d.spec.replicas ?? 1;
  const newRS = w.newRS!;
  // reconcileNewReplicaSet
  if (replicasOf(newRS) > replicas) return w.scale(newRS, replicas);
  if (replicasOf(newRS) < replicas) {
    const target = newRSReplicas(d, w.all, newRS);
    if (target !== replicasOf(newRS)) return w.scale(newRS, target);
  }
  // reconcileOldReplicaSets
  if (sum(w.oldRSs, replicasOf) === 0) return false;
  const { maxUnavailable } = resolveFenceposts(d);
  const minAvailable = replicas - maxUnavailable;
  const newUnavailable = replicasOf(newRS) - (newRS.status?.availableReplicas ?? 0);
  const maxScaledDown = sum(w.all, replicasOf) - minAvailable - newUnavailable;
  if (maxScaledDown <= 0) return false;
  const byAge = [...w.oldRSs].sort((a, b) => created(a) - created(b));
  let changed = false;
  // cleanupUnhealthyReplicas: old Pods that are not available go first, within maxScaledDown.
  let cleaned = 0;
  for (const rs of byAge) {
    if (cleaned >= maxScaledDown) break;
    const unhealthy = replicasOf(rs) - (rs.status?.availableReplicas ?? 0);
    if (replicasOf(rs) === 0 || unhealthy <= 0) continue;
    const down = Math.min(maxScaledDown - cleaned, unhealthy);
    changed = w.scale(rs, replicasOf(rs) - down) || changed;
    cleaned += down;
  }
  // scaleDownOldReplicaSetsForRollingUpdate: then available old Pods, keeping minAvailable.
  const available = sum(w.all, (rs) => rs.status?.availableReplicas ?? 0);
  if (available > minAvailable) {
    const total = available - minAvailable;
    let scaled = 0;
    for (const rs of byAge) {
      if (scaled >= total) break;
      if (replicasOf(rs) === 0) continue;
      const down = Math.min(replicasOf(rs), total - scaled);
      changed = w.scale(rs, replicasOf(rs) - down) || changed;
      scaled += down;
    }
  }
  return changed;
}

function recreateStep(w: Working, oldPodsRunning: boolean): 'wait' | 'scaled' | 'idle' {
  let scaledDown = false;
  for (const rs of w.oldRSs) if (replicasOf(rs) > 0) scaledDown = w.scale(rs, 0) || scaledDown;
  if (scaledDown || oldPodsRunning) return 'wait';
  const replicas = w.d.spec.replicas ?? 1;
  return w.newRS && w.scale(w.newRS, replicas) ? 'scaled' : 'idle';
}

/** old ReplicaSets beyond revisionHistoryLimit that are scaled to zero, oldest revision first. */
export function replicaSetsToCleanUp(d: Deployment, oldRSs: ReplicaSet[]): string[] {
  const limit = d.spec.revisionHistoryLimit ?? 10;
  const cleanable = oldRSs.filter((rs) => !rs.metadata.deletionTimestamp).sort((a, b) => revisionOf(a) - revisionOf(b) || created(a) - created(b));
  const diff = cleanable.length - limit;
  const out: string[] = [];
  for (const rs of cleanable.slice(0, Math.max(0, diff))) {
    const caughtUp = (rs.status?.observedGeneration ?? 0) >= (rs.metadata.generation ?? 0);
    if (replicasOf(rs) === 0 && (rs.status?.replicas ?? 0) === 0 && caughtUp) out.push(rs.metadata.name ?? '');
  }
  return out;
}

function setCondition(conditions: DeploymentCondition[], c: DeploymentCondition): DeploymentCondition[] {
  const cur = conditions.find((x) => x.type === c.type);
  if (cur && cur.status === c.status && cur.reason === c.reason) return conditions;
  return [...conditions.filter((x) => x.type !== c.type), c];
}

function deploymentComplete(d: Deployment, s: DeploymentStatus): boolean {
  const replicas = d.spec.replicas ?? 1;
  return s.updatedReplicas === replicas && s.replicas === replicas && s.availableReplicas === replicas && (s.observedGeneration ?? 0) >= (d.metadata.generation ?? 0);
}

function deploymentProgressing(old: Deployment['status'], s: DeploymentStatus): boolean {
  const o = old ?? {};
  return (
    (s.updatedReplicas ?? 0) > (o.updatedReplicas ?? 0) ||
    (s.replicas ?? 0) - (s.updatedReplicas ?? 0) < (o.replicas ?? 0) - (o.updatedReplicas ?? 0) ||
    (s.readyReplicas ?? 0) > (o.readyReplicas ?? 0) ||
    (s.availableReplicas ?? 0) > (o.availableReplicas ?? 0)
  );
}

/** calculateStatus + syncRolloutStatus: counts from the ReplicaSets' status, and the two conditions. */
export function deploymentStatus(d: Deployment, w: { newRS?: ReplicaSet; all: ReplicaSet[] }, now: string, opts: { rollout: boolean; createdNewRS: boolean }): DeploymentStatus {
  const replicas = d.spec.replicas ?? 1;
  const available = sum(w.all, (rs) => rs.status?.availableReplicas ?? 0);
  const status: DeploymentStatus = {
    observedGeneration: d.metadata.generation,
    replicas: sum(w.all, (rs) => rs.status?.replicas ?? 0),
    updatedReplicas: w.newRS?.status?.replicas ?? 0,
    readyReplicas: sum(w.all, (rs) => rs.status?.readyReplicas ?? 0),
    availableReplicas: available,
    unavailableReplicas: Math.max(0, replicas - available),
    conditions: [...(d.status?.conditions ?? [])],
  };
  const collisionCount = (d.status as DeploymentStatus | undefined)?.collisionCount;
  if (collisionCount !== undefined) status.collisionCount = collisionCount;

  const minAvailable = replicas - resolveFenceposts(d).maxUnavailable;
  const availableCond: DeploymentCondition =
    available >= minAvailable
      ? { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.', lastUpdateTime: now, lastTransitionTime: now }
      : { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.', lastUpdateTime: now, lastTransitionTime: now };
  status.conditions = setCondition(status.conditions ?? [], availableCond);

  if (!opts.rollout || !w.newRS) return status;
  const rsName = w.newRS.metadata.name;
  const current = status.conditions.find((c) => c.type === 'Progressing');
  const progressing = (reason: string, message: string): DeploymentCondition => ({ type: 'Progressing', status: 'True', reason, message, lastUpdateTime: now, lastTransitionTime: now });
  if (opts.createdNewRS) {
    status.conditions = setCondition(status.conditions, progressing('NewReplicaSetCreated', `Created new replica set "${rsName}"`));
  } else if (!current) {
    status.conditions = setCondition(status.conditions, progressing('FoundNewReplicaSet', `Found new replica set "${rsName}"`));
  }
  const cur = status.conditions.find((c) => c.type === 'Progressing');
  const complete = status.replicas === status.updatedReplicas && cur?.reason === 'NewReplicaSetAvailable';
  if (complete) return status;
  if (deploymentComplete(d, status)) {
    status.conditions = setCondition(status.conditions, progressing('NewReplicaSetAvailable', `ReplicaSet "${rsName}" has successfully progressed.`));
  } else if (deploymentProgressing(d.status, status)) {
    // Progress refreshes lastUpdateTime but keeps the transition time of a condition already True.
    const c = progressing('ReplicaSetUpdated', `ReplicaSet "${rsName}" is progressing.`);
    if (cur?.status === 'True') c.lastTransitionTime = cur.lastTransitionTime;
    status.conditions = [...status.conditions.filter((x) => x.type !== 'Progressing'), c];
  }
  return status;
}

/**
 * One sync of a Deployment. rss: the ReplicaSets it controls; oldPodsRunning: whether any Pod of an
 * old ReplicaSet is not yet finished or gone (Recreate waits for that).
 */
export function planDeployment(d: Deployment, rss: ReplicaSet[], oldPodsRunning: boolean, now: string): DeploymentPlan {
  const copies = rss.map((rs) => structuredClone(rs));
  const split = splitReplicaSets(d, copies);
  const w = new Working(d, split.newRS, split.oldRSs);
  const plan: DeploymentPlan = { update: [], delete: [], status: {} };
  const maxOldRevision = Math.max(0, ...w.oldRSs.map(revisionOf));
  const newRevision = maxOldRevision + 1;

  if (w.newRS && revisionOf(w.newRS) < newRevision) {
    // A template rolled back to an older ReplicaSet's makes that one the newest revision again.
    w.newRS.metadata.annotations = { ...(w.newRS.metadata.annotations ?? {}), [REVISION_ANNOTATION]: String(newRevision) };
    w.changed.add(w.newRS);
  }

  const deleting = d.metadata.deletionTimestamp !== undefined;
  const paused = d.spec.paused === true;
  let rollout = false;
  let createdNewRS = false;
  if (!deleting) {
    if (paused || isScalingEvent(d, w.all)) {
      scale(w);
      if (paused) plan.delete = replicaSetsToCleanUp(d, w.oldRSs);
    } else {
      rollout = true;
      const recreate = d.spec.strategy?.type === 'Recreate';
      const needNew = !w.newRS && (!recreate || (!oldPodsRunning && w.oldRSs.every((rs) => replicasOf(rs) === 0)));
      if (needNew) {
        const collisionCount = (d.status as DeploymentStatus | undefined)?.collisionCount;
        const rs = newReplicaSetFor(d, newRevision, collisionCount);
        w.newRS = rs;
        rs.spec.replicas = newRSReplicas(d, w.all, rs);
        plan.create = rs;
        createdNewRS = true;
      }
      const stepped = recreate ? recreateStep(w, oldPodsRunning) !== 'idle' : rollingStep(w);
      const acted = createdNewRS || stepped;
      const preview = deploymentStatus(d, w, now, { rollout: false, createdNewRS: false });
      if (!acted && deploymentComplete(d, preview)) plan.delete = replicaSetsToCleanUp(d, w.oldRSs);
    }
  }

  plan.update = [...w.changed].filter((rs) => rs !== plan.create);
  const revision = w.newRS ? w.newRS.metadata.annotations?.[REVISION_ANNOTATION] : undefined;
  if (revision && d.metadata.annotations?.[REVISION_ANNOTATION] !== revision) plan.deploymentRevision = revision;
  plan.status = deploymentStatus(d, w, now, { rollout, createdNewRS });
  return plan;
}
