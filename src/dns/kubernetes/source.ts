// Where the kubernetes zone gets its objects from: a static list in tests, Informers on the kemu
// API in a cluster. The zone model only ever reads a snapshot, so it stays a pure function.

import type { EndpointSlice, Namespace, Pod, Service } from '../../api/types.js';

export interface ZoneObjects {
  namespaces: readonly Namespace[];
  services: readonly Service[];
  endpointSlices: readonly EndpointSlice[];
  pods: readonly Pod[];
}

export interface ZoneSource {
  snapshot(): ZoneObjects;
  /** false until the first full list of every watched resource arrived (CoreDNS: HasSynced) */
  hasSynced(): boolean;
  /** calls `cb` after any object changed; returns the unsubscribe function */
  onChange(cb: () => void): () => void;
  /** Unix seconds of the last change, used as the SOA serial */
  lastChange(): number;
}

/** A fixed set of objects, e.g. a conformance fixture. */
export class StaticZoneSource implements ZoneSource {
  private readonly changedAt = Math.floor(Date.now() / 1000);

  constructor(
    private readonly objects: ZoneObjects,
    private readonly synced = true,
  ) {}

  snapshot(): ZoneObjects {
    return this.objects;
  }
  hasSynced(): boolean {
    return this.synced;
  }
  onChange(): () => void {
    return () => undefined;
  }
  lastChange(): number {
    return this.changedAt;
  }
}
