// Pure facts about Pods and owners that several controllers need (upstream's podutil and
// controller_utils): readiness, availability after minReadySeconds, activeness, controller refs,
// and the order in which a controller prefers to delete surplus Pods.

import type { KubeObject, OwnerReference, Pod } from '../api/types.js';

export function readyCondition(pod: Pod) {
  return pod.status?.conditions?.find((c) => c.type === 'Ready');
}

export function isPodReady(pod: Pod): boolean {
  return readyCondition(pod)?.status === 'True';
}

export function isTerminating(obj: KubeObject): boolean {
  return obj.metadata.deletionTimestamp !== undefined;
}

/** Ready for at least minReadySeconds (upstream IsPodAvailable). */
export function isPodAvailable(pod: Pod, minReadySeconds: number, nowMs: number): boolean {
  const cond = readyCondition(pod);
  if (cond?.status !== 'True') return false;
  if (minReadySeconds <= 0) return true;
  const since = cond.lastTransitionTime ? Date.parse(cond.lastTransitionTime) : NaN;
  return !Number.isNaN(since) && since + minReadySeconds * 1000 <= nowMs;
}

/** Milliseconds until a ready but not yet available Pod becomes available, if it is such a Pod. */
export function msUntilAvailable(pod: Pod, minReadySeconds: number, nowMs: number): number | undefined {
  const cond = readyCondition(pod);
  if (cond?.status !== 'True' || minReadySeconds <= 0 || !cond.lastTransitionTime) return undefined;
  const left = Date.parse(cond.lastTransitionTime) + minReadySeconds * 1000 - nowMs;
  return left > 0 ? left : undefined;
}

/** Not finished and not being deleted (upstream IsPodActive). */
export function isPodActive(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && !isTerminating(pod);
}

export function controllerRef(obj: KubeObject): OwnerReference | undefined {
  return obj.metadata.ownerReferences?.find((o) => o.controller === true);
}

export function isControlledBy(obj: KubeObject, owner: KubeObject): boolean {
  const ref = controllerRef(obj);
  return ref !== undefined && ref.uid === owner.metadata.uid;
}

export function ownerRefTo(owner: KubeObject): OwnerReference {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name ?? '',
    uid: owner.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

const PHASE_RANK: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

/** Missing times sort as the newest, so such Pods go first, as upstream's afterOrZero. */
function time(s: string | undefined | null): number {
  const t = s ? Date.parse(s) : NaN;
  return Number.isNaN(t) ? Infinity : t;
}

function restarts(pod: Pod): number {
  return Math.max(0, ...(pod.status?.containerStatuses ?? []).map((c) => c.restartCount));
}

/**
 * Negative when a should be deleted before b (upstream ActivePods ordering): unscheduled before
 * scheduled, Pending before Unknown before Running, not ready before ready, ready for less time
 * before ready for longer, more restarts before fewer, newer before older.
 */
export function compareForDeletion(a: Pod, b: Pod): number {
  const assigned = (p: Pod) => (p.spec.nodeName ? 1 : 0);
  if (assigned(a) !== assigned(b)) return assigned(a) - assigned(b);
  const phase = (p: Pod) => PHASE_RANK[p.status?.phase ?? 'Pending'] ?? 0;
  if (phase(a) !== phase(b)) return phase(a) - phase(b);
  const ready = (p: Pod) => (isPodReady(p) ? 1 : 0);
  if (ready(a) !== ready(b)) return ready(a) - ready(b);
  if (ready(a) === 1) {
    const ra = time(readyCondition(a)?.lastTransitionTime);
    const rb = time(readyCondition(b)?.lastTransitionTime);
    if (ra !== rb) return rb - ra; // ready more recently goes first
  }
  if (restarts(a) !== restarts(b)) return restarts(b) - restarts(a);
  const ca = time(a.metadata.creationTimestamp);
  const cb = time(b.metadata.creationTimestamp);
  if (ca !== cb) return cb - ca; // newer first
  return 0;
}
