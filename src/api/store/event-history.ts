// The bounded window of recent committed events that watches resume from, like the part of etcd's
// history not yet compacted. The ring holds the newest `capacity` events; anything older is gone.

import type { StoreEvent } from './store.js';

/** E: the events kept, StoreEvent or one carrying more (the API server's watch cache adds the previous object). */
export class EventHistory<E extends StoreEvent = StoreEvent> {
  private readonly ring: Array<E | undefined>;
  private start = 0;
  private size = 0;

  /** floorRevision: the revision the history starts after (the store's revision at open). */
  constructor(
    private readonly capacity: number,
    private floorRevision: number,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`history size must be a positive integer, got ${capacity}`);
    this.ring = new Array<E | undefined>(capacity);
  }

  /** The revision just before the oldest retained event: resuming from older ones has a gap. */
  get compactedRevision(): number {
    return this.floorRevision;
  }

  push(event: E): void {
    if (this.size === this.capacity) {
      this.floorRevision = this.at(0).revision;
      this.ring[this.start] = undefined;
      this.start = (this.start + 1) % this.capacity;
      this.size--;
    }
    this.ring[(this.start + this.size) % this.capacity] = event;
    this.size++;
  }

  /** Retained events with revision > sinceRevision and a key under prefix, oldest first. */
  since(sinceRevision: number, prefix: string): E[] {
    const out: E[] = [];
    for (let i = this.firstAfter(sinceRevision); i < this.size; i++) {
      const event = this.at(i);
      if (event.key.startsWith(prefix)) out.push(event);
    }
    return out;
  }

  private at(i: number): E {
    return this.ring[(this.start + i) % this.capacity] as E;
  }

  /** Index of the first retained event newer than revision (revisions are ascending). */
  private firstAfter(revision: number): number {
    let lo = 0;
    let hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.at(mid).revision <= revision) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
