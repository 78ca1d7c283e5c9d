// The EndpointSlice controller's loop: Service, Pod and EndpointSlice events enqueue the Services
// concerned; a sync applies reconcileSlices. Slices get server-generated names, so a sync must
// not run on a cache that has not seen this controller's last writes (it would create them
// again): the tracker remembers each write until the informer shows it, as upstream's
// endpointSliceTracker does.

import type { Client } from '../api/client.js';
import type { EndpointSlice, Pod, Service } from '../api/types.js';
import { isNotFound, keyOf, splitKey, type ReconcileResult } from './controller.js';
import { CONTROLLER_NAME, MANAGED_BY_LABEL, reconcileSlices, SERVICE_NAME_LABEL } from './endpointslice-plan.js';
import type { SharedInformers } from './informers.js';
import { ENDPOINT_SLICES, PODS, SERVICES } from './kinds.js';
import { LoopController, type LoopOptions } from './loop-controller.js';

const STALE_CACHE_RETRY_MS = 100;

/** Writes per Service not yet seen in the cache: slice name -> resourceVersion written, or 'deleted'. */
export class SliceTracker {
  private readonly pending = new Map<string, Map<string, string>>();

  written(serviceKey: string, slice: EndpointSlice): void {
    this.entry(serviceKey).set(slice.metadata.name ?? '', slice.metadata.resourceVersion ?? '0');
  }

  deleted(serviceKey: string, sliceName: string): void {
    this.entry(serviceKey).set(sliceName, 'deleted');
  }

  /** True when the cache reflects every write; reflected writes are forgotten. */
  caughtUp(serviceKey: string, cached: (name: string) => EndpointSlice | undefined): boolean {
    const writes = this.pending.get(serviceKey);
    if (!writes) return true;
    for (const [name, rv] of writes) {
      const slice = cached(name);
      const seen = rv === 'deleted' ? slice === undefined : slice !== undefined && Number(slice.metadata.resourceVersion) >= Number(rv);
      if (seen) writes.delete(name);
    }
    if (writes.size === 0) this.pending.delete(serviceKey);
    return writes.size === 0;
  }

  forget(serviceKey: string): void {
    this.pending.delete(serviceKey);
  }

  private entry(serviceKey: string): Map<string, string> {
    let m = this.pending.get(serviceKey);
    if (!m) this.pending.set(serviceKey, (m = new Map()));
    return m;
  }
}

function selects(svc: Service, pod: Pod): boolean {
  const sel = svc.spec.selector;
  if (!sel || svc.metadata.namespace !== pod.metadata.namespace) return false;
  return Object.entries(sel).every(([k, v]) => pod.metadata.labels?.[k] === v);
}

export class EndpointSliceController extends LoopController {
  private readonly tracker = new SliceTracker();
  private readonly services;
  private readonly pods;
  private readonly slices;

  constructor(
    private readonly client: Client,
    informers: SharedInformers,
    opts: LoopOptions = {},
  ) {
    super('endpointslice-controller', opts);
    this.services = informers.for<Service>(SERVICES);
    this.pods = informers.for<Pod>(PODS);
    this.slices = informers.for<EndpointSlice>(ENDPOINT_SLICES);
    const enqueue = (svc: Service) => this.loop.enqueue(keyOf(svc));
    this.services.addHandler({
      onAdd: enqueue,
      onUpdate: (_o, s) => enqueue(s),
      onDelete: (s) => {
        this.tracker.forget(keyOf(s));
      },
    });
    const enqueueFor = (pod: Pod) => {
      for (const svc of this.services.list()) if (selects(svc, pod)) enqueue(svc);
    };
    this.pods.addHandler({
      onAdd: enqueueFor,
      onUpdate: (old, pod) => {
        enqueueFor(pod);
        enqueueFor(old);
      },
      onDelete: enqueueFor,
    });
    const enqueueSliceOwner = (slice: EndpointSlice) => {
      const labels = slice.metadata.labels ?? {};
      const svc = labels[SERVICE_NAME_LABEL];
      if (svc && labels[MANAGED_BY_LABEL] === CONTROLLER_NAME) this.loop.enqueue(`${slice.metadata.namespace}/${svc}`);
    };
    this.slices.addHandler({ onAdd: enqueueSliceOwner, onUpdate: (_o, s) => enqueueSliceOwner(s), onDelete: enqueueSliceOwner });
  }

  protected keys(): string[] {
    return this.services.list().map(keyOf);
  }

  protected async sync(key: string): Promise<ReconcileResult> {
    const { namespace, name } = splitKey(key);
    const svc = this.services.get(namespace, name);
    // Deleted Services: the garbage collector removes their slices through ownerReferences.
    if (!svc || svc.metadata.deletionTimestamp) return {};
    // ExternalName and selector-less Services get no slices from this controller.
    if (svc.spec.type === 'ExternalName' || !svc.spec.selector) return {};
    if (!this.tracker.caughtUp(key, (n) => this.slices.get(namespace, n))) return { requeueAfterMs: STALE_CACHE_RETRY_MS };

    const pods = this.pods.list().filter((p) => selects(svc, p));
    const existing = this.slices.list().filter((s) => {
      const labels = s.metadata.labels ?? {};
      return s.metadata.namespace === namespace && labels[SERVICE_NAME_LABEL] === name && labels[MANAGED_BY_LABEL] === CONTROLLER_NAME;
    });
    const changes = reconcileSlices(svc, pods, existing);
    for (const slice of changes.create) this.tracker.written(key, await this.client.create(ENDPOINT_SLICES, namespace, slice));
    for (const slice of changes.update) this.tracker.written(key, await this.client.update(ENDPOINT_SLICES, namespace, slice));
    for (const slice of changes.delete) {
      const sliceName = slice.metadata.name ?? '';
      await this.client.delete(ENDPOINT_SLICES, namespace, sliceName).catch((e: unknown) => {
        if (!isNotFound(e)) throw e;
      });
      this.tracker.deleted(key, sliceName);
    }
    return {};
  }
}
