// The API server's watch cache, as kube-apiserver's cacher: one store watch feeds every client
// watch. It keeps the current objects (so a watch from "0" starts with their ADDED events), and a
// bounded history of recent events, each with the object's previous state — what a
// selector-filtered watch needs to tell "stopped matching" (DELETED) from "changed" (MODIFIED).
// It starts at the store's revision when the server starts; older revisions are Gone.

import { gone } from '../errors.js';
import { RESOURCES, storageKey, storagePrefix } from '../resources.js';
import { EventHistory } from '../store/event-history.js';
import type { Store, StoreEvent, StoreWatch } from '../store/store.js';
import type { KubeObject } from '../types.js';

export interface CacheEvent extends StoreEvent {
  /** The object before this change; undefined for ADDED. */
  prevObject?: KubeObject;
  /** The change's watch-stream lines by the type a watcher sees it as, encoded once for all watchers. */
  lines?: Partial<Record<StoreEvent['type'], Buffer>>;
}

export interface CacheWatchHandlers {
  onEvent(event: CacheEvent): void;
  /** The cache lost its store watch or closed: no more events follow. */
  onClose(reason: string): void;
}

interface Registration {
  prefix: string;
  afterRevision: number;
  handlers: CacheWatchHandlers;
}

export class WatchCache {
  private objects = new Map<string, KubeObject>();
  /** Recent events; watches may resume from its compactedRevision or later. */
  private history: EventHistory<CacheEvent>;
  private current = 0;
  private readonly watchers = new Set<Registration>();
  private storeWatch: StoreWatch | undefined;
  private closed = false;

  constructor(
    private readonly store: Store,
    private readonly historySize: number,
  ) {
    this.history = new EventHistory(historySize, 0);
  }

  /** The newest revision whose event every watcher has been handed. */
  get revision(): number {
    return this.current;
  }

  start(): void {
    // lists are synchronous: all of them see the same revision
    const revision = this.store.revision;
    this.objects = new Map();
    for (const r of RESOURCES) {
      for (const o of this.store.list(storagePrefix(r)).items) this.objects.set(storageKey(r, o.metadata.namespace, o.metadata.name ?? ''), o);
    }
    this.history = new EventHistory(this.historySize, revision);
    this.current = revision;
    this.storeWatch = this.store.watch('/', revision, {
      onEvent: (e) => this.apply(e),
      onClose: (reason) => this.restart(reason),
    });
  }

  /**
   * Registers a watch on keys under prefix. sinceRevision undefined: ADDED for every current object
   * first, then every change; otherwise every change after sinceRevision (410 Gone when too old).
   */
  watch(prefix: string, sinceRevision: number | undefined, handlers: CacheWatchHandlers): { stop(): void } {
    const oldest = this.history.compactedRevision;
    if (sinceRevision !== undefined && sinceRevision < oldest) {
      throw gone(`too old resource version: ${sinceRevision} (${oldest})`);
    }
    const reg: Registration = { prefix, afterRevision: sinceRevision ?? this.current, handlers };
    if (sinceRevision === undefined) {
      const keys = [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
      for (const key of keys) {
        const object = this.objects.get(key) as KubeObject;
        handlers.onEvent({ type: 'ADDED', key, object, revision: Number(object.metadata.resourceVersion) });
      }
    } else {
      for (const e of this.history.since(sinceRevision, prefix)) handlers.onEvent(e);
    }
    this.watchers.add(reg);
    return { stop: () => this.watchers.delete(reg) };
  }

  close(): void {
    this.closed = true;
    this.storeWatch?.stop();
    this.endAll('watch cache closed');
  }

  private apply(e: StoreEvent): void {
    const event: CacheEvent = { ...e, prevObject: this.objects.get(e.key) };
    if (e.type === 'DELETED') this.objects.delete(e.key);
    else this.objects.set(e.key, e.object);
    this.current = e.revision;
    this.history.push(event);
    for (const w of this.watchers) {
      if (e.revision > w.afterRevision && e.key.startsWith(w.prefix)) w.handlers.onEvent(event);
    }
  }

  /** The store ended our watch (e.g. we fell behind): end every client watch and start over from a fresh list. */
  private restart(reason: string): void {
    this.endAll(reason);
    if (!this.closed) this.start();
  }

  private endAll(reason: string): void {
    const all = [...this.watchers];
    this.watchers.clear();
    for (const w of all) w.handlers.onClose(reason);
  }
}
