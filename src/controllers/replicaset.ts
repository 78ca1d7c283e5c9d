// The ReplicaSet controller's loop: ReplicaSet and Pod events enqueue the owning ReplicaSet; a sync
// applies planReplicaSet through the API. Expectations keep it from acting twice on a cache that
// has not yet seen its own creates and deletes.

import type { Client } from '../api/client.js';
import type { Pod, ReplicaSet } from '../api/types.js';
import { isNotFound, keyOf, splitKey, type ReconcileResult } from './controller.js';
import { Expectations } from './expectations.js';
import type { SharedInformers } from './informers.js';
import { PODS, REPLICA_SETS } from './kinds.js';
import { LoopController, type LoopOptions } from './loop-controller.js';
import { controllerRef, isControlledBy, isTerminating } from './pod-util.js';
import { planReplicaSet, podFromTemplate, statusEqual } from './replicaset-plan.js';

/** Runs fn count times in batches of 1, 2, 4, ... stopping after a batch with a failure (upstream slowStartBatch). */
export async function slowStartBatch(count: number, fn: () => Promise<void>): Promise<{ succeeded: number; error?: unknown }> {
  let done = 0;
  for (let batch = 1; done < count; batch *= 2) {
    const size = Math.min(batch, count - done);
    const results = await Promise.allSettled(Array.from({ length: size }, fn));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    done += results.filter((r) => r.status === 'fulfilled').length;
    if (failed) return { succeeded: done, error: failed.reason };
  }
  return { succeeded: done };
}

export class ReplicaSetController extends LoopController {
  private readonly expectations = new Expectations();
  private readonly replicaSets;
  private readonly pods;

  constructor(
    private readonly client: Client,
    informers: SharedInformers,
    opts: LoopOptions = {},
  ) {
    super('replicaset-controller', opts);
    this.replicaSets = informers.for<ReplicaSet>(REPLICA_SETS);
    this.pods = informers.for<Pod>(PODS);
    this.replicaSets.addHandler({
      onAdd: (rs) => this.loop.enqueue(keyOf(rs)),
      onUpdate: (_old, rs) => this.loop.enqueue(keyOf(rs)),
      onDelete: (rs) => {
        this.expectations.forget(keyOf(rs));
        this.loop.enqueue(keyOf(rs));
      },
    });
    this.pods.addHandler({
      onAdd: (pod) => {
        const rsKey = this.ownerKey(pod);
        if (!rsKey) return;
        if (isTerminating(pod)) this.expectations.deletionObserved(rsKey, keyOf(pod));
        else this.expectations.creationObserved(rsKey);
        this.loop.enqueue(rsKey);
      },
      onUpdate: (old, pod) => {
        const rsKey = this.ownerKey(pod);
        const oldKey = this.ownerKey(old);
        if (oldKey && oldKey !== rsKey) this.loop.enqueue(oldKey);
        if (!rsKey) return;
        // A graceful delete shows up as an update setting deletionTimestamp (upstream does the same).
        if (isTerminating(pod) && !isTerminating(old)) this.expectations.deletionObserved(rsKey, keyOf(pod));
        this.loop.enqueue(rsKey);
      },
      onDelete: (pod) => {
        const rsKey = this.ownerKey(pod);
        if (!rsKey) return;
        this.expectations.deletionObserved(rsKey, keyOf(pod));
        this.loop.enqueue(rsKey);
      },
    });
  }

  protected keys(): string[] {
    return this.replicaSets.list().map(keyOf);
  }

  private ownerKey(pod: Pod): string | undefined {
    const ref = controllerRef(pod);
    if (ref?.kind !== 'ReplicaSet' || !pod.metadata.namespace) return undefined;
    return `${pod.metadata.namespace}/${ref.name}`;
  }

  protected async sync(key: string): Promise<ReconcileResult> {
    const { namespace, name } = splitKey(key);
    const rs = this.replicaSets.get(namespace, name);
    if (!rs) {
      this.expectations.forget(key);
      return {};
    }
    const pods = this.pods.list().filter((p) => p.metadata.namespace === namespace && isControlledBy(p, rs));
    const plan = planReplicaSet(rs, pods, Date.now());
    let manageError: unknown;
    if (this.expectations.satisfied(key) && !rs.metadata.deletionTimestamp) {
      manageError = plan.create > 0 ? await this.createPods(key, rs, plan.create) : await this.deletePods(key, rs, plan.delete);
    }
    if (!statusEqual(rs.status, plan.status)) {
      await this.client.patchStatus(REPLICA_SETS, namespace, name, { status: plan.status }).catch((e: unknown) => {
        if (!isNotFound(e)) throw e;
      });
    }
    if (manageError) throw manageError;
    return { requeueAfterMs: plan.requeueAfterMs };
  }

  private async createPods(key: string, rs: ReplicaSet, count: number): Promise<unknown> {
    this.expectations.expect(key, count);
    const pod = podFromTemplate(rs);
    const { succeeded, error } = await slowStartBatch(count, async () => {
      await this.client.create(PODS, rs.metadata.namespace, pod);
    });
    // Creations that failed or were skipped will never be observed.
    for (let i = succeeded; i < count; i++) this.expectations.creationObserved(key);
    return error;
  }

  private async deletePods(key: string, rs: ReplicaSet, pods: Pod[]): Promise<unknown> {
    if (pods.length === 0) return undefined;
    this.expectations.expect(key, 0, pods.map(keyOf));
    const results = await Promise.allSettled(
      pods.map(async (p) => {
        try {
          await this.client.delete(PODS, rs.metadata.namespace, p.metadata.name ?? '', { preconditions: { uid: p.metadata.uid } });
        } catch (e) {
          this.expectations.deletionObserved(key, keyOf(p));
          if (!isNotFound(e)) throw e;
        }
      }),
    );
    return results.find((r): r is PromiseRejectedResult => r.status === 'rejected')?.reason;
  }
}
