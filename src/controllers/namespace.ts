// The namespace controller: a Namespace being deleted (Terminating) is emptied — every namespaced
// object in it is deleted — and, once nothing is left, its 'kubernetes' finalizer is removed
// through namespaces/{name}/finalize, after which the API server removes it. Objects that take
// time to go (Pods on a node, objects with finalizers) make it look again a little later.

import type { Client } from '../api/client.js';
import { RESOURCES, type ResourceType } from '../api/resources.js';
import type { KubeObject, Namespace } from '../api/types.js';
import { isNotFound, keyOf, type ReconcileResult } from './controller.js';
import type { SharedInformers } from './informers.js';
import { NAMESPACES } from './kinds.js';
import { LoopController, type LoopOptions } from './loop-controller.js';

export const NAMESPACE_FINALIZER = 'kubernetes';
const CONTENT_REMAINS_RETRY_MS = 1000;

export function isNamespaceTerminating(ns: Namespace): boolean {
  return ns.metadata.deletionTimestamp !== undefined || ns.status?.phase === 'Terminating';
}

/** What to do with a Terminating namespace's content: delete what is not yet being deleted, wait for the rest. */
export function planNamespaceCleanup(content: { r: ResourceType; obj: KubeObject }[]): { remove: { r: ResourceType; obj: KubeObject }[]; remaining: number } {
  return { remove: content.filter((c) => !c.obj.metadata.deletionTimestamp), remaining: content.length };
}

export class NamespaceController extends LoopController {
  private readonly namespaces;

  constructor(
    private readonly client: Client,
    informers: SharedInformers,
    opts: LoopOptions = {},
  ) {
    super('namespace-controller', opts);
    this.namespaces = informers.for<Namespace>(NAMESPACES);
    const onNs = (ns: Namespace) => {
      if (isNamespaceTerminating(ns)) this.loop.enqueue(keyOf(ns));
    };
    this.namespaces.addHandler({ onAdd: onNs, onUpdate: (_o, ns) => onNs(ns) });
  }

  protected keys(): string[] {
    return this.namespaces.list().filter(isNamespaceTerminating).map(keyOf);
  }

  protected async sync(name: string): Promise<ReconcileResult> {
    const ns = this.namespaces.get(undefined, name);
    if (!ns || !isNamespaceTerminating(ns)) return {};
    const content: { r: ResourceType; obj: KubeObject }[] = [];
    for (const r of RESOURCES.filter((x) => x.namespaced)) {
      const list = await this.client.list(r, name);
      for (const obj of list.items) content.push({ r, obj });
    }
    const plan = planNamespaceCleanup(content);
    for (const { r, obj } of plan.remove) {
      await this.client.delete(r, name, obj.metadata.name ?? '').catch((e: unknown) => {
        if (!isNotFound(e)) throw e;
      });
    }
    if (plan.remaining > 0) return { requeueAfterMs: CONTENT_REMAINS_RETRY_MS };

    const finalizers = ns.spec?.finalizers ?? [];
    if (!finalizers.includes(NAMESPACE_FINALIZER)) return {};
    await this.client.finalizeNamespace(name, finalizers.filter((f) => f !== NAMESPACE_FINALIZER)).catch((e: unknown) => {
      if (!isNotFound(e)) throw e;
    });
    return {};
  }
}
