// Change tracking shared by every proxy mode (upstream: servicechangetracker.go,
// endpointschangetracker.go). Informer handlers record which Services were touched; a sync applies
// the pending changes to the service-port and endpoints maps and learns which Services really
// changed, so a partial sync can skip the chains of all the others.

import type { IPFamily } from '../api/ip.js';
import type { EndpointSlice, Service } from '../api/types.js';
import { endpointsFromSlices, sliceServiceName, type EndpointInfo } from './endpoints.js';
import { namespacedName, servicePortsFromService, type NamespacedName, type ServicePortInfo } from './service-port.js';

export interface MapUpdate<V> {
  /** Everything known after the update, keyed by service port key. */
  map: Map<string, V>;
  /** Services whose entries differ from the previous update. */
  updatedServices: Set<NamespacedName>;
}

/** Per-Service entries recomputed lazily for the Services touched since the last update. */
class PerServiceMap<V> {
  private readonly applied = new Map<NamespacedName, Map<string, V>>();
  private readonly pending = new Set<NamespacedName>();

  constructor(private readonly compute: (service: NamespacedName) => Map<string, V>) {}

  touch(service: NamespacedName): void {
    this.pending.add(service);
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  update(): MapUpdate<V> {
    const updatedServices = new Set<NamespacedName>();
    for (const service of this.pending) {
      const next = this.compute(service);
      const previous = this.applied.get(service) ?? new Map<string, V>();
      if (!sameEntries(previous, next)) updatedServices.add(service);
      if (next.size === 0) this.applied.delete(service);
      else this.applied.set(service, next);
    }
    this.pending.clear();
    const map = new Map<string, V>();
    for (const entries of this.applied.values()) for (const [key, value] of entries) map.set(key, value);
    return { map, updatedServices };
  }
}

function sameEntries<V>(a: Map<string, V>, b: Map<string, V>): boolean {
  if (a.size !== b.size) return false;
  for (const [key, value] of a) {
    if (!b.has(key) || JSON.stringify(value) !== JSON.stringify(b.get(key))) return false;
  }
  return true;
}

export class ServiceChangeTracker {
  private readonly services = new Map<NamespacedName, Service>();
  private readonly ports: PerServiceMap<ServicePortInfo>;

  constructor(family: IPFamily) {
    this.ports = new PerServiceMap((name) => {
      const svc = this.services.get(name);
      return svc === undefined ? new Map() : servicePortsFromService(svc, family);
    });
  }

  onServiceAdd(svc: Service): void {
    this.set(svc, svc);
  }

  onServiceUpdate(_old: Service, svc: Service): void {
    this.set(svc, svc);
  }

  onServiceDelete(svc: Service): void {
    this.set(svc, undefined);
  }

  private set(ref: Service, svc: Service | undefined): void {
    const name = namespacedName(ref.metadata.namespace, ref.metadata.name);
    if (svc === undefined) this.services.delete(name);
    else this.services.set(name, svc);
    this.ports.touch(name);
  }

  get pendingCount(): number {
    return this.ports.pendingCount;
  }

  update(): MapUpdate<ServicePortInfo> {
    return this.ports.update();
  }
}

export class EndpointsChangeTracker {
  private readonly slices = new Map<NamespacedName, Map<string, EndpointSlice>>();
  private readonly endpoints: PerServiceMap<EndpointInfo[]>;

  constructor(family: IPFamily, nodeName: string) {
    this.endpoints = new PerServiceMap((name) =>
      endpointsFromSlices(name, [...(this.slices.get(name)?.values() ?? [])], family, nodeName),
    );
  }

  onEndpointSliceAdd(slice: EndpointSlice): void {
    this.set(slice, slice);
  }

  onEndpointSliceUpdate(_old: EndpointSlice, slice: EndpointSlice): void {
    this.set(slice, slice);
  }

  onEndpointSliceDelete(slice: EndpointSlice): void {
    this.set(slice, undefined);
  }

  private set(ref: EndpointSlice, slice: EndpointSlice | undefined): void {
    const service = sliceServiceName(ref);
    if (service === undefined) return;
    let byName = this.slices.get(service);
    if (byName === undefined) this.slices.set(service, (byName = new Map()));
    const sliceName = ref.metadata.name ?? '';
    if (slice === undefined) byName.delete(sliceName);
    else byName.set(sliceName, slice);
    if (byName.size === 0) this.slices.delete(service);
    this.endpoints.touch(service);
  }

  get pendingCount(): number {
    return this.endpoints.pendingCount;
  }

  update(): MapUpdate<EndpointInfo[]> {
    return this.endpoints.update();
  }
}
