// A shared-informer-like cache of one resource, as client-go's reflector + store: list, then watch
// from the list's resourceVersion; resume a cut stream from the last resourceVersion seen
// (bookmarks move it forward); relist on 410 Gone and tell handlers the difference; back off on
// connection errors and retry until stopped. Handlers see every object's versions in order.

import type { Client } from './client.js';
import { isApiError } from './errors.js';
import type { ResourceType } from './resources.js';
import type { KubeObject, WatchEvent } from './types.js';

export interface InformerHandlers<T> {
  onAdd?(obj: T): void;
  onUpdate?(old: T, obj: T): void;
  onDelete?(obj: T): void;
}

export interface InformerOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Every resyncMs, onUpdate(obj, obj) for every cached object; off when unset or 0. */
  resyncMs?: number;
}

const BACKOFF_START_MS = 100;
const BACKOFF_MAX_MS = 2000;
/** A watch that ends this fast without any event counts as a failure (no hot reconnect loop). */
const SHORT_WATCH_MS = 1000;

function keyOf(obj: KubeObject): string {
  const { namespace, name } = obj.metadata;
  return namespace ? `${namespace}/${name}` : `${name}`;
}

/** True when resourceVersion a is older than b; resourceVersions here are store revisions. */
function isOlder(a: string | undefined, b: string | undefined): boolean {
  const x = Number(a);
  const y = Number(b);
  return Number.isFinite(x) && Number.isFinite(y) && x < y;
}

/** A 4xx answer to the first list that retrying cannot fix (bad selector, unknown resource). */
function isPermanent(e: unknown): boolean {
  return isApiError(e) && e.code >= 400 && e.code < 500 && e.code !== 410 && e.code !== 429;
}

export class Informer<T extends KubeObject> {
  private readonly cache = new Map<string, T>();
  private readonly handlers: InformerHandlers<T>[] = [];
  private resourceVersion = '';
  private synced = false;
  private stopped = false;
  private running = false;
  private backoffMs = BACKOFF_START_MS;
  private watchHandle: { stop(): void } | undefined;
  private wakeUp: (() => void) | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private onSynced: { resolve(): void; reject(e: unknown): void } | undefined;

  constructor(
    private readonly client: Client,
    private readonly resource: ResourceType,
    private readonly opts: InformerOptions = {},
  ) {}

  get hasSynced(): boolean {
    return this.synced;
  }

  /** Adds handlers; once synced, the new handler first gets onAdd for every cached object. */
  addHandler(h: InformerHandlers<T>): void {
    this.handlers.push(h);
    if (this.synced) for (const obj of this.cache.values()) this.call(h, 'onAdd', obj);
  }

  /** Resolves once the first list is in the cache; rejects when that list is refused for good. */
  start(): Promise<void> {
    if (this.running) throw new Error(`informer for ${this.resource.plural} already started`);
    this.running = true;
    if (this.stopped) return Promise.resolve();
    const synced = new Promise<void>((resolve, reject) => (this.onSynced = { resolve, reject }));
    void this.run();
    return synced;
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.watchHandle?.stop();
    this.wakeUp?.();
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    // start() settles: resolved, with hasSynced telling whether the cache was ever filled.
    this.onSynced?.resolve();
  }

  list(): T[] {
    return [...this.cache.values()];
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.cache.get(namespace ? `${namespace}/${name}` : name);
  }

  private async run(): Promise<void> {
    let needList = true;
    while (!this.stopped) {
      if (needList) {
        try {
          await this.relist();
          needList = false;
        } catch (e) {
          if (!this.synced && isPermanent(e)) {
            this.onSynced?.reject(e);
            this.onSynced = undefined;
            this.stop();
            return;
          }
          await this.backoff();
          continue;
        }
      }
      const started = Date.now();
      let events = 0;
      try {
        await this.watchOnce(() => events++);
        if (events === 0 && Date.now() - started < SHORT_WATCH_MS) await this.backoff();
        else this.backoffMs = BACKOFF_START_MS;
      } catch (e) {
        if (isApiError(e) && e.code === 410) needList = true;
        else await this.backoff();
      }
    }
  }

  /** Lists, replaces the cache and tells handlers what changed since the cache was last filled. */
  private async relist(): Promise<void> {
    const { namespace, labelSelector, fieldSelector } = this.opts;
    const list = await this.client.list<T>(this.resource, namespace, { labelSelector, fieldSelector });
    if (this.stopped) return;
    const seen = new Set<string>();
    for (const item of list.items) {
      const key = keyOf(item);
      seen.add(key);
      this.apply(key, item);
    }
    for (const [key, old] of this.cache) {
      if (seen.has(key)) continue;
      this.cache.delete(key);
      this.emit('onDelete', old);
    }
    this.resourceVersion = list.metadata.resourceVersion;
    this.backoffMs = BACKOFF_START_MS;
    if (!this.synced) this.markSynced();
  }

  private markSynced(): void {
    this.synced = true;
    this.onSynced?.resolve();
    this.onSynced = undefined;
    const every = this.opts.resyncMs ?? 0;
    if (every > 0) {
      this.resyncTimer = setInterval(() => {
        for (const obj of this.cache.values()) this.emit('onUpdate', obj, obj);
      }, every);
      this.resyncTimer.unref();
    }
  }

  private watchOnce(onAnyEvent: () => void): Promise<void> {
    const { namespace, labelSelector, fieldSelector } = this.opts;
    const handle = this.client.watch<T>(
      this.resource,
      namespace,
      { resourceVersion: this.resourceVersion, allowWatchBookmarks: true, labelSelector, fieldSelector },
      (e) => {
        onAnyEvent();
        this.handleEvent(e);
      },
    );
    this.watchHandle = handle;
    return handle.done.finally(() => {
      this.watchHandle = undefined;
    });
  }

  private handleEvent(e: WatchEvent<T>): void {
    if (this.stopped) return;
    const rv = e.object.metadata?.resourceVersion;
    if (e.type === 'BOOKMARK') {
      if (rv) this.resourceVersion = rv;
      return;
    }
    const key = keyOf(e.object);
    if (e.type === 'DELETED') {
      const old = this.cache.get(key);
      if (old && !isOlder(rv, old.metadata.resourceVersion)) {
        this.cache.delete(key);
        this.emit('onDelete', e.object);
      }
    } else {
      this.apply(key, e.object);
    }
    if (rv) this.resourceVersion = rv;
  }

  /** Stores obj and emits add or update; an object older than the cached one is dropped. */
  private apply(key: string, obj: T): void {
    const old = this.cache.get(key);
    if (!old) {
      this.cache.set(key, obj);
      this.emit('onAdd', obj);
      return;
    }
    if (old.metadata.resourceVersion === obj.metadata.resourceVersion) return;
    if (isOlder(obj.metadata.resourceVersion, old.metadata.resourceVersion)) return;
    this.cache.set(key, obj);
    this.emit('onUpdate', old, obj);
  }

  private emit(kind: 'onAdd' | 'onDelete', obj: T): void;
  private emit(kind: 'onUpdate', old: T, obj: T): void;
  private emit(kind: keyof InformerHandlers<T>, a: T, b?: T): void {
    for (const h of this.handlers) this.call(h, kind, a, b);
  }

  /** Runs one handler; a throwing handler is reported and must not stop the informer. */
  private call(h: InformerHandlers<T>, kind: keyof InformerHandlers<T>, a: T, b?: T): void {
    try {
      if (kind === 'onUpdate') h.onUpdate?.(a, b ?? a);
      else h[kind]?.(a);
    } catch (e) {
      console.error(`informer ${this.resource.plural}: ${kind} handler failed:`, e);
    }
  }

  /** Waits the current backoff (cut short by stop()) and doubles it up to the cap. */
  private backoff(): Promise<void> {
    const ms = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, BACKOFF_MAX_MS);
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = done;
    }).finally(() => {
      this.wakeUp = undefined;
    });
  }
}
