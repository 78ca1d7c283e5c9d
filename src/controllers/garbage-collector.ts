// Background cascading deletion by ownerReferences, as kube-controller-manager's garbage collector:
// an object all of whose owners are gone (no object with that name and uid) is deleted; one that
// lost only some owners has the dangling references removed. Owners are checked in the shared
// caches first and confirmed with a live GET before anything is deleted, because a dependent can
// reach its cache before its owner reaches the owner's cache.

import type { Client } from '../api/client.js';
import { resourceForKind, type ResourceType } from '../api/resources.js';
import type { KubeObject, OwnerReference } from '../api/types.js';
import { isNotFound, keyOf, splitKey, type ReconcileResult } from './controller.js';
import type { SharedInformers } from './informers.js';
import { DEPLOYMENTS, ENDPOINT_SLICES, PODS, REPLICA_SETS, SERVICES } from './kinds.js';
import { LoopController, type LoopOptions } from './loop-controller.js';

export type GcDecision = { action: 'keep' } | { action: 'delete' } | { action: 'removeRefs'; keep: OwnerReference[] };

/** ownerGone(ref): whether the owner named by ref no longer exists (with that uid). */
export function gcDecision(obj: KubeObject, ownerGone: (ref: OwnerReference) => boolean): GcDecision {
  const refs = obj.metadata.ownerReferences ?? [];
  if (refs.length === 0 || obj.metadata.deletionTimestamp) return { action: 'keep' };
  const alive = refs.filter((ref) => !ownerGone(ref));
  if (alive.length === 0) return { action: 'delete' };
  if (alive.length < refs.length) return { action: 'removeRefs', keep: alive };
  return { action: 'keep' };
}

/** The kinds whose objects the collector watches as dependents. */
const DEPENDENTS: ResourceType[] = [PODS, REPLICA_SETS, ENDPOINT_SLICES];
/** Owner kinds whose deletion should wake their dependents up. */
const OWNERS: ResourceType[] = [REPLICA_SETS, DEPLOYMENTS, SERVICES];
const CACHED = new Set<ResourceType>([...DEPENDENTS, ...OWNERS]);

export class GarbageCollector extends LoopController {
  constructor(
    private readonly client: Client,
    private readonly informers: SharedInformers,
    opts: LoopOptions = {},
  ) {
    super('garbage-collector', opts);
    for (const r of DEPENDENTS) {
      const onObj = (o: KubeObject) => {
        if (o.metadata.ownerReferences?.length) this.loop.enqueue(this.key(r, o));
      };
      this.informers.for(r).addHandler({ onAdd: onObj, onUpdate: (_old, o) => onObj(o) });
    }
    for (const owner of OWNERS) {
      this.informers.for(owner).addHandler({ onDelete: (o) => this.enqueueDependents(o) });
    }
  }

  protected keys(): string[] {
    return DEPENDENTS.flatMap((r) => this.informers.for(r).list().filter((o) => o.metadata.ownerReferences?.length).map((o) => this.key(r, o)));
  }

  /** Keys are '<plural>.<group>|<ns>/<name>' so one queue serves every dependent kind. */
  private key(r: ResourceType, o: KubeObject): string {
    return `${r.plural}.${r.group}|${keyOf(o)}`;
  }

  private enqueueDependents(owner: KubeObject): void {
    const uid = owner.metadata.uid;
    for (const r of DEPENDENTS) {
      for (const o of this.informers.for(r).list()) {
        if (o.metadata.ownerReferences?.some((ref) => ref.uid === uid)) this.loop.enqueue(this.key(r, o));
      }
    }
  }

  protected async sync(key: string): Promise<ReconcileResult> {
    const bar = key.indexOf('|');
    const r = DEPENDENTS.find((x) => `${x.plural}.${x.group}` === key.slice(0, bar));
    if (!r) return {};
    const { namespace, name } = splitKey(key.slice(bar + 1));
    const obj = this.informers.for(r).get(namespace, name);
    if (!obj) return {};
    const cached = gcDecision(obj, (ref) => this.ownerGoneInCache(ref, namespace));
    if (cached.action === 'keep') return {};
    // Confirm with the API before acting on what the caches suggest.
    const gone = new Map<string, boolean>();
    for (const ref of obj.metadata.ownerReferences ?? []) gone.set(ref.uid, await this.ownerGoneLive(ref, namespace));
    const decision = gcDecision(obj, (ref) => gone.get(ref.uid) ?? false);
    if (decision.action === 'delete') {
      await this.client.delete(r, namespace, name, { preconditions: { uid: obj.metadata.uid } }).catch((e: unknown) => {
        if (!isNotFound(e)) throw e;
      });
    } else if (decision.action === 'removeRefs') {
      await this.client.patch(r, namespace, name, { metadata: { ownerReferences: decision.keep } });
    }
    return {};
  }

  private ownerGoneInCache(ref: OwnerReference, namespace: string | undefined): boolean {
    const r = resourceForKind(ref.apiVersion, ref.kind);
    if (!r) return false; // a kind this API does not serve: never collect on its account
    if (!CACHED.has(r)) return true; // not cached here: let the live check decide
    const owner = this.informers.for(r).get(r.namespaced ? namespace : undefined, ref.name);
    return owner === undefined || owner.metadata.uid !== ref.uid;
  }

  private async ownerGoneLive(ref: OwnerReference, namespace: string | undefined): Promise<boolean> {
    const r = resourceForKind(ref.apiVersion, ref.kind);
    if (!r) return false;
    try {
      const owner = await this.client.get(r, r.namespaced ? namespace : undefined, ref.name);
      return owner.metadata.uid !== ref.uid;
    } catch (e) {
      if (isNotFound(e)) return true;
      throw e;
    }
  }
}
