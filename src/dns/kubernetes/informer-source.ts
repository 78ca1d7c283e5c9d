// The ZoneSource of a running cluster: Informers on Namespaces, Services, EndpointSlices and
// (only when a plugin needs them) Pods, as CoreDNS's dnsController watches them.

import type { Client } from '../../api/client.js';
import { Informer } from '../../api/informer.js';
import { RESOURCES, type ResourceType } from '../../api/resources.js';
import type { EndpointSlice, KubeObject, Namespace, Pod, Service } from '../../api/types.js';
import type { ZoneObjects, ZoneSource } from './source.js';

function resource(kind: string): ResourceType {
  const r = RESOURCES.find((x) => x.kind === kind);
  if (!r) throw new Error(`resource ${kind} is not served`);
  return r;
}

export class InformerZoneSource implements ZoneSource {
  private readonly namespaces: Informer<Namespace>;
  private readonly services: Informer<Service>;
  private readonly slices: Informer<EndpointSlice>;
  private readonly pods: Informer<Pod> | undefined;
  private readonly listeners = new Set<() => void>();
  private changedAt = Math.floor(Date.now() / 1000);
  private cached: ZoneObjects | undefined;

  constructor(client: Client, opts: { watchPods: boolean }) {
    this.namespaces = new Informer<Namespace>(client, resource('Namespace'));
    this.services = new Informer<Service>(client, resource('Service'));
    this.slices = new Informer<EndpointSlice>(client, resource('EndpointSlice'));
    this.pods = opts.watchPods ? new Informer<Pod>(client, resource('Pod')) : undefined;
    for (const inf of this.informers()) {
      const changed = (): void => this.changed();
      inf.addHandler({ onAdd: changed, onUpdate: (a, b) => a !== b && changed(), onDelete: changed });
    }
  }

  private informers(): Informer<KubeObject>[] {
    return [this.namespaces, this.services, this.slices, ...(this.pods ? [this.pods] : [])] as unknown as Informer<KubeObject>[];
  }

  private changed(): void {
    this.cached = undefined;
    this.changedAt = Math.floor(Date.now() / 1000);
    for (const l of this.listeners) l();
  }

  /** Starts every informer; resolves once all have listed (CoreDNS waits up to startup_timeout). */
  async start(): Promise<void> {
    await Promise.all(this.informers().map((i) => i.start()));
  }

  stop(): void {
    for (const i of this.informers()) i.stop();
  }

  snapshot(): ZoneObjects {
    this.cached ??= {
      namespaces: this.namespaces.list(),
      services: this.services.list(),
      endpointSlices: this.slices.list(),
      pods: this.pods?.list() ?? [],
    };
    return this.cached;
  }

  hasSynced(): boolean {
    return this.informers().every((i) => i.hasSynced);
  }

  onChange(cb: () => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  lastChange(): number {
    return this.changedAt;
  }
}
