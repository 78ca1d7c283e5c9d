// Fans committed events out to watchers. Each watcher has its own queue, drained on a later turn
// of the event loop, so a write never runs handler code and one watcher's handler cannot stall or
// break another's. A watcher whose queue outgrows the bound is dropped with onClose('too slow');
// a handler that throws is dropped too, since it has lost that event (its client relists).

import type { StoreEvent, StoreWatch, StoreWatchHandlers } from './store.js';

/** Events handed to one watcher per turn, so a long replay does not hold the event loop. */
const DELIVER_PER_TURN = 1000;

class Watcher {
  private queue: StoreEvent[] = [];
  private head = 0;
  closeReason: string | undefined;
  stopped = false;

  constructor(
    readonly prefix: string,
    /** Events at or below this revision were already covered (by the replay or the caller's list). */
    readonly afterRevision: number,
    readonly handlers: StoreWatchHandlers,
  ) {}

  get backlog(): number {
    return this.queue.length - this.head;
  }

  enqueue(event: StoreEvent): void {
    this.queue.push(event);
  }

  take(max: number): StoreEvent[] {
    const end = Math.min(this.queue.length, this.head + max);
    const batch = this.queue.slice(this.head, end);
    this.head = end;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    }
    return batch;
  }

  drop(): void {
    this.queue = [];
    this.head = 0;
  }
}

export class WatchHub {
  private readonly watchers = new Set<Watcher>();
  private scheduled = false;

  constructor(private readonly queueLimit: number) {}

  /** Registers a watcher that first receives `replay`, then every published event after it. */
  add(prefix: string, afterRevision: number, replay: StoreEvent[], handlers: StoreWatchHandlers): StoreWatch {
    const watcher = new Watcher(prefix, afterRevision, handlers);
    this.watchers.add(watcher);
    for (const event of replay) watcher.enqueue(event);
    this.checkBacklog(watcher);
    this.schedule();
    return {
      stop: () => {
        watcher.stopped = true;
        watcher.drop();
        this.watchers.delete(watcher);
      },
    };
  }

  publish(event: StoreEvent): void {
    for (const watcher of this.watchers) {
      if (watcher.closeReason || event.revision <= watcher.afterRevision || !event.key.startsWith(watcher.prefix)) continue;
      watcher.enqueue(event);
      this.checkBacklog(watcher);
    }
    this.schedule();
  }

  /** Delivers everything still queued, then ends every watch with onClose(reason). */
  closeAll(reason: string): void {
    for (const watcher of this.watchers) {
      while (!watcher.closeReason && !watcher.stopped && watcher.backlog > 0) this.deliver(watcher, Infinity);
      if (!watcher.stopped) this.finish(watcher, watcher.closeReason ?? reason);
    }
  }

  private checkBacklog(watcher: Watcher): void {
    if (watcher.backlog > this.queueLimit) this.close(watcher, 'too slow');
  }

  private close(watcher: Watcher, reason: string): void {
    watcher.closeReason ??= reason;
    watcher.drop();
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.drainTurn());
  }

  private drainTurn(): void {
    this.scheduled = false;
    let more = false;
    for (const watcher of this.watchers) {
      if (!watcher.closeReason && watcher.backlog > 0) this.deliver(watcher, DELIVER_PER_TURN);
      if (watcher.closeReason && !watcher.stopped) this.finish(watcher, watcher.closeReason);
      else if (watcher.backlog > 0) more = true;
    }
    if (more) this.schedule();
  }

  private deliver(watcher: Watcher, max: number): void {
    for (const event of watcher.take(max)) {
      if (watcher.stopped || watcher.closeReason) return;
      try {
        watcher.handlers.onEvent(event);
      } catch (err) {
        this.close(watcher, `watch handler failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }

  private finish(watcher: Watcher, reason: string): void {
    this.watchers.delete(watcher);
    watcher.stopped = true;
    try {
      watcher.handlers.onClose?.(reason);
    } catch {
      // The watch is over either way; a failing close handler has nothing left to break.
    }
  }
}
