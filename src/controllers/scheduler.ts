// The scheduler's loop: unbound Pods for default-scheduler are queued; a sync runs schedulePod and
// binds through pods/{name}/binding, or records PodScheduled=False/Unschedulable and waits for a
// node change (or a periodic retry). Bindings it made but has not yet seen come back through the
// informer are "assumed", as kube-scheduler's cache does, so that back-to-back Pods spread out.

import type { Client } from '../api/client.js';
import type { Node, Pod, PodCondition } from '../api/types.js';
import { ControllerLoop, isConflict, isNotFound, keyOf, logReconcileError, rfc3339, splitKey, type Controller, type ReconcileResult } from './controller.js';
import type { SharedInformers } from './informers.js';
import { NODES, PODS } from './kinds.js';
import { needsScheduling, schedulePod } from './scheduling.js';

/** Bindings in flight at once. */
const BIND_PARALLELISM = 16;

/** How often an unschedulable Pod is retried even without node events. */
const UNSCHEDULABLE_RETRY_MS = 30_000;

export class Scheduler implements Controller {
  private readonly loop: ControllerLoop;
  private readonly pods;
  private readonly nodes;
  /** pod key -> node it was bound to, until the informer shows the binding. */
  private readonly assumed = new Map<string, string>();

  constructor(
    private readonly client: Client,
    informers: SharedInformers,
    opts: { resyncMs?: number } = {},
  ) {
    this.pods = informers.for<Pod>(PODS);
    this.nodes = informers.for<Node>(NODES);
    this.loop = new ControllerLoop({
      name: 'default-scheduler',
      reconcile: (key) => this.sync(key),
      listKeys: () => this.pendingKeys(),
      onError: logReconcileError,
      // kube-scheduler binds apart from its scheduling cycle, so the next Pod is placed while this
      // one's binding is in flight. Here several workers do that: a decision (schedulePod and the
      // assumption) runs without an await in between, so it always sees every earlier assumption,
      // and only the bind requests overlap.
      workers: BIND_PARALLELISM,
      ...opts,
    });
    const retryAll = () => {
      for (const key of this.pendingKeys()) this.loop.enqueue(key);
    };
    const onPod = (pod: Pod) => {
      if (pod.spec.nodeName) this.assumed.delete(keyOf(pod));
      if (needsScheduling(pod)) this.loop.enqueue(keyOf(pod));
    };
    // A deleted Pod frees its node's host ports: kube-scheduler's NodePorts plugin requeues on it too.
    const onPodDelete = (pod: Pod) => {
      this.assumed.delete(keyOf(pod));
      if (pod.spec.nodeName) retryAll();
    };
    this.pods.addHandler({ onAdd: onPod, onUpdate: (_o, p) => onPod(p), onDelete: onPodDelete });
    this.nodes.addHandler({ onAdd: retryAll, onUpdate: retryAll, onDelete: retryAll });
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  private pendingKeys(): string[] {
    return this.pods.list().filter(needsScheduling).map(keyOf);
  }

  /** The placed Pods as the scheduler believes them: the cache plus its own unobserved bindings. */
  private placedPods(): Pod[] {
    return this.pods.list().map((p) => {
      const node = this.assumed.get(keyOf(p));
      return node && !p.spec.nodeName ? { ...p, spec: { ...p.spec, nodeName: node } } : p;
    });
  }

  private async sync(key: string): Promise<ReconcileResult> {
    const { namespace, name } = splitKey(key);
    const pod = this.pods.get(namespace, name);
    if (!pod || !needsScheduling(pod) || this.assumed.has(key)) return {};
    const result = schedulePod(pod, this.nodes.list(), this.placedPods());
    if ('node' in result) {
      this.assumed.set(key, result.node);
      try {
        await this.client.bindPod(namespace ?? '', name, result.node);
      } catch (e) {
        this.assumed.delete(key);
        if (isConflict(e) || isNotFound(e)) return {}; // bound by someone else, or gone
        throw e;
      }
      return {};
    }
    await this.recordUnschedulable(pod, result.unschedulable);
    return { requeueAfterMs: UNSCHEDULABLE_RETRY_MS };
  }

  private async recordUnschedulable(pod: Pod, message: string): Promise<void> {
    const conditions = pod.status?.conditions ?? [];
    const current = conditions.find((c) => c.type === 'PodScheduled');
    if (current?.status === 'False' && current.reason === 'Unschedulable' && current.message === message) return;
    const condition: PodCondition = {
      type: 'PodScheduled',
      status: 'False',
      reason: 'Unschedulable',
      message,
      lastProbeTime: null,
      lastTransitionTime: current?.status === 'False' && current.lastTransitionTime ? current.lastTransitionTime : rfc3339(),
    };
    const next = [...conditions.filter((c) => c.type !== 'PodScheduled'), condition];
    await this.client.patchStatus(PODS, pod.metadata.namespace, pod.metadata.name ?? '', { status: { conditions: next } }).catch((e: unknown) => {
      if (!isNotFound(e)) throw e;
    });
  }
}
