// Where the objects come from: Informers on the kemu API (every change schedules a rebuild), or
// a static set handed in by tests and replaced through reload().

import type { Client } from '../api/client.js';
import { Informer } from '../api/informer.js';
import { resourceForName } from '../api/resources.js';
import type { EndpointSlice, Ingress, IngressClass, KubeObject, Node, Secret, Service } from '../api/types.js';
import type { IngressRoute, Middleware } from '../api/traefik-types.js';
import type { ClusterObjects } from './config/build.js';

export interface ObjectSource {
  objects(): ClusterObjects;
  nodes(): Node[];
  start(onChange: () => void): Promise<void>;
  stop(): void;
}

export class StaticSource implements ObjectSource {
  constructor(
    private current: ClusterObjects,
    private readonly nodeList: Node[] = [],
  ) {}

  objects(): ClusterObjects {
    return this.current;
  }

  nodes(): Node[] {
    return this.nodeList;
  }

  replace(objects: ClusterObjects): void {
    this.current = objects;
  }

  async start(): Promise<void> {}

  stop(): void {}
}

export class InformerSource implements ObjectSource {
  private readonly informers = new Map<string, Informer<KubeObject>>();

  constructor(client: Client) {
    // IngressRoutes and Middlewares are watched once the API serves them
    for (const plural of ['ingresses', 'ingressclasses', 'services', 'endpointslices', 'secrets', 'nodes', 'ingressroutes', 'middlewares']) {
      const r = resourceForName(plural);
      if (r) this.informers.set(plural, new Informer(client, r, { resyncMs: 60_000 }));
    }
  }

  private list<T>(plural: string): T[] {
    return (this.informers.get(plural)?.list() ?? []) as T[];
  }

  objects(): ClusterObjects {
    return {
      ingresses: this.list<Ingress>('ingresses'),
      ingressClasses: this.list<IngressClass>('ingressclasses'),
      services: this.list<Service>('services'),
      endpointSlices: this.list<EndpointSlice>('endpointslices'),
      secrets: this.list<Secret>('secrets'),
      ingressRoutes: this.list<IngressRoute>('ingressroutes'),
      middlewares: this.list<Middleware>('middlewares'),
    };
  }

  nodes(): Node[] {
    return this.list<Node>('nodes');
  }

  async start(onChange: () => void): Promise<void> {
    const handler = { onAdd: onChange, onUpdate: onChange, onDelete: onChange };
    for (const inf of this.informers.values()) inf.addHandler(handler);
    await Promise.all([...this.informers.values()].map((i) => i.start()));
  }

  stop(): void {
    for (const i of this.informers.values()) i.stop();
  }
}
