// One informer per resource type, shared by every controller that watches it (client-go's
// SharedInformerFactory): one list+watch per type however many controllers read it.

import type { Client } from '../api/client.js';
import { Informer } from '../api/informer.js';
import type { ResourceType } from '../api/resources.js';
import type { KubeObject } from '../api/types.js';

export class SharedInformers {
  private readonly informers = new Map<string, Informer<KubeObject>>();

  constructor(private readonly client: Client) {}

  /** The informer for r; register handlers before start(). */
  for<T extends KubeObject>(r: ResourceType): Informer<T> {
    const id = `${r.group}/${r.plural}`;
    let inf = this.informers.get(id);
    if (!inf) {
      inf = new Informer<KubeObject>(this.client, r);
      this.informers.set(id, inf);
    }
    return inf as unknown as Informer<T>;
  }

  /** Starts every informer asked for so far; resolves once all caches hold their first list. */
  async start(): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.start()));
  }

  stop(): void {
    for (const i of this.informers.values()) i.stop();
  }
}
