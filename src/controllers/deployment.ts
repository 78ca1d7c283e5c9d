// The Deployment controller's loop: Deployment, ReplicaSet and Pod events enqueue the Deployment; a
// sync applies planDeployment through the API (create / resize / delete ReplicaSets, the revision
// annotation, the status). Each write bumps a ReplicaSet, whose event brings the next step.

import type { Client } from '../api/client.js';
import { isApiError } from '../api/errors.js';
import type { Deployment, Pod, ReplicaSet } from '../api/types.js';
import { isNotFound, keyOf, rfc3339, splitKey, type ReconcileResult } from './controller.js';
import { planDeployment, splitReplicaSets, type DeploymentStatus } from './deployment-plan.js';
import type { SharedInformers } from './informers.js';
import { DEPLOYMENTS, PODS, REPLICA_SETS } from './kinds.js';
import { LoopController, type LoopOptions } from './loop-controller.js';
import { canonicalJson, templatesEqualIgnoringHash } from './pod-template-hash.js';
import { controllerRef, isControlledBy } from './pod-util.js';

/** How soon to look again after finding that our own new ReplicaSet is not in the cache yet. */
const CACHE_LAG_RETRY_MS = 200;

export class DeploymentController extends LoopController {
  private readonly deployments;
  private readonly replicaSets;
  private readonly pods;

  constructor(
    private readonly client: Client,
    informers: SharedInformers,
    opts: LoopOptions = {},
  ) {
    super('deployment-controller', opts);
    this.deployments = informers.for<Deployment>(DEPLOYMENTS);
    this.replicaSets = informers.for<ReplicaSet>(REPLICA_SETS);
    this.pods = informers.for<Pod>(PODS);
    const enqueue = (d: Deployment) => this.loop.enqueue(keyOf(d));
    this.deployments.addHandler({ onAdd: enqueue, onUpdate: (_o, d) => enqueue(d), onDelete: enqueue });
    const enqueueOwner = (rs: ReplicaSet) => {
      const key = this.ownerKey(rs);
      if (key) this.loop.enqueue(key);
    };
    this.replicaSets.addHandler({
      onAdd: enqueueOwner,
      onUpdate: (old, rs) => {
        enqueueOwner(rs);
        if (this.ownerKey(old) !== this.ownerKey(rs)) enqueueOwner(old);
      },
      onDelete: enqueueOwner,
    });
    // Recreate waits until the old Pods are gone.
    this.pods.addHandler({
      onDelete: (pod) => {
        const ref = controllerRef(pod);
        const rs = ref?.kind === 'ReplicaSet' ? this.replicaSets.get(pod.metadata.namespace, ref.name) : undefined;
        if (rs) enqueueOwner(rs);
      },
    });
  }

  protected keys(): string[] {
    return this.deployments.list().map(keyOf);
  }

  private ownerKey(rs: ReplicaSet): string | undefined {
    const ref = controllerRef(rs);
    return ref?.kind === 'Deployment' && rs.metadata.namespace ? `${rs.metadata.namespace}/${ref.name}` : undefined;
  }

  private oldPodsRunning(d: Deployment, rss: ReplicaSet[]): boolean {
    const { newRS, oldRSs } = splitReplicaSets(d, rss);
    if (oldRSs.some((rs) => (rs.status?.replicas ?? 0) > 0)) return true;
    const oldUids = new Set(oldRSs.map((rs) => rs.metadata.uid));
    return this.pods.list().some((p) => {
      const ref = controllerRef(p);
      if (!ref || ref.uid === newRS?.metadata.uid || !oldUids.has(ref.uid)) return false;
      return p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed';
    });
  }

  protected async sync(key: string): Promise<ReconcileResult> {
    const { namespace, name } = splitKey(key);
    const d = this.deployments.get(namespace, name);
    if (!d) return {};
    const rss = this.replicaSets.list().filter((rs) => rs.metadata.namespace === namespace && isControlledBy(rs, d));
    const plan = planDeployment(d, rss, this.oldPodsRunning(d, rss), rfc3339());

    if (plan.create) {
      const retry = await this.createReplicaSet(d, plan.create);
      if (retry) return retry;
    }
    for (const rs of plan.update) await this.client.update(REPLICA_SETS, namespace, rs);
    for (const rsName of plan.delete) {
      await this.client.delete(REPLICA_SETS, namespace, rsName).catch((e: unknown) => {
        if (!isNotFound(e)) throw e;
      });
    }
    if (plan.deploymentRevision) {
      await this.client.patch(DEPLOYMENTS, namespace, name, { metadata: { annotations: { 'deployment.kubernetes.io/revision': plan.deploymentRevision } } });
    }
    if (canonicalJson(d.status ?? {}) !== canonicalJson(plan.status)) {
      await this.client.patchStatus(DEPLOYMENTS, namespace, name, { status: plan.status });
    }
    return {};
  }

  /** Creates the new ReplicaSet; on a name clash decides between "cache lag" and a hash collision. */
  private async createReplicaSet(d: Deployment, rs: ReplicaSet): Promise<ReconcileResult | undefined> {
    try {
      await this.client.create(REPLICA_SETS, d.metadata.namespace, rs);
      return undefined;
    } catch (e) {
      if (!isApiError(e) || e.code !== 409) throw e;
    }
    const existing = await this.client.get<ReplicaSet>(REPLICA_SETS, d.metadata.namespace, rs.metadata.name ?? '');
    if (isControlledBy(existing, d) && templatesEqualIgnoringHash(existing.spec.template, d.spec.template)) {
      return { requeueAfterMs: CACHE_LAG_RETRY_MS }; // ours, the cache has not seen it yet
    }
    // Someone else's ReplicaSet has this name: bump collisionCount so the next hash differs.
    const status = d.status as DeploymentStatus | undefined;
    await this.client.patchStatus(DEPLOYMENTS, d.metadata.namespace, d.metadata.name ?? '', { status: { collisionCount: (status?.collisionCount ?? 0) + 1 } });
    return { requeueAfterMs: 0 };
  }
}
