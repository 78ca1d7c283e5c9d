// The machinery every controller shares, shaped like client-go's workqueue + controller loop: a queue
// of object keys that never holds a key twice and never hands the same key to two workers at once,
// per-key exponential back-off for failed reconciles, and a periodic full resync. A reconcile looks
// at the current cached state for its key and converges it; events only say "look at this key".

import { isApiError } from '../api/errors.js';
import type { KubeObject } from '../api/types.js';

/** `namespace/name` for namespaced objects, `name` otherwise (client-go's MetaNamespaceKeyFunc). */
export function keyOf(obj: KubeObject): string {
  const { namespace, name } = obj.metadata;
  return namespace ? `${namespace}/${name}` : `${name}`;
}

export function splitKey(key: string): { namespace: string | undefined; name: string } {
  const slash = key.indexOf('/');
  return slash < 0 ? { namespace: undefined, name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/** Per-key exponential back-off: base * 2^failures, capped (client-go's ItemExponentialFailureRateLimiter). */
export class BackoffRateLimiter {
  private readonly failures = new Map<string, number>();

  constructor(
    private readonly baseMs = 5,
    private readonly maxMs = 30_000,
  ) {}

  when(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    return Math.min(this.maxMs, this.baseMs * 2 ** n);
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  retries(key: string): number {
    return this.failures.get(key) ?? 0;
  }
}

export class WorkQueue {
  private readonly queue: string[] = [];
  /** Keys waiting to be processed (in `queue`, or re-added while processing). */
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly waiters: ((key: string | undefined) => void)[] = [];
  private shuttingDown = false;

  constructor(readonly limiter = new BackoffRateLimiter()) {}

  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return; // re-queued by done()
    const waiter = this.waiters.shift();
    if (waiter) {
      this.dirty.delete(key);
      this.processing.add(key);
      waiter(key);
    } else {
      this.queue.push(key);
    }
  }

  /** Add after a delay; an earlier pending delayed add for the same key wins. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) return this.add(key);
    if (this.timers.has(key)) return;
    const t = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, ms);
    t.unref();
    this.timers.set(key, t);
  }

  addRateLimited(key: string): void {
    this.addAfter(key, this.limiter.when(key));
  }

  forget(key: string): void {
    this.limiter.forget(key);
  }

  /** The next key to work on, or undefined once the queue is shut down. */
  get(): Promise<string | undefined> {
    if (this.shuttingDown) return Promise.resolve(undefined);
    const key = this.queue.shift();
    if (key !== undefined) {
      this.dirty.delete(key);
      this.processing.add(key);
      return Promise.resolve(key);
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) {
      this.dirty.delete(key);
      this.add(key);
    }
  }

  get length(): number {
    return this.queue.length;
  }

  shutDown(): void {
    this.shuttingDown = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const w of this.waiters.splice(0)) w(undefined);
  }
}

export interface ReconcileResult {
  /** Look at the key again after this long even without events (e.g. minReadySeconds elapsing). */
  requeueAfterMs?: number;
}

export type Reconcile = (key: string) => Promise<ReconcileResult | void>;

export interface ControllerLoopOptions {
  name: string;
  reconcile: Reconcile;
  /** Every key the controller is responsible for; enqueued on start and on every resync. */
  listKeys: () => string[];
  workers?: number;
  resyncMs?: number;
  /** Called with errors of failed reconciles (they are retried with back-off). */
  onError?: (name: string, key: string, err: unknown) => void;
}

/** The thin run loop around a reconcile function. */
export class ControllerLoop {
  readonly queue = new WorkQueue();
  private readonly workers: Promise<void>[] = [];
  private resyncTimer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: ControllerLoopOptions) {}

  enqueue(key: string): void {
    this.queue.add(key);
  }

  enqueueAfter(key: string, ms: number): void {
    this.queue.addAfter(key, ms);
  }

  resync(): void {
    for (const key of this.opts.listKeys()) this.queue.add(key);
  }

  start(): void {
    this.resync();
    const n = this.opts.workers ?? 1;
    for (let i = 0; i < n; i++) this.workers.push(this.work());
    const every = this.opts.resyncMs ?? 30_000;
    this.resyncTimer = setInterval(() => this.resync(), every);
    this.resyncTimer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.resyncTimer);
    this.queue.shutDown();
    await Promise.all(this.workers);
  }

  private async work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        const result = await this.opts.reconcile(key);
        this.queue.forget(key);
        if (result?.requeueAfterMs !== undefined) this.queue.addAfter(key, result.requeueAfterMs);
      } catch (err) {
        this.opts.onError?.(this.opts.name, key, err);
        this.queue.addRateLimited(key);
      } finally {
        this.queue.done(key);
      }
    }
  }
}

/** What the manager starts and stops. */
export interface Controller {
  start(): void;
  stop(): Promise<void>;
}

export function isNotFound(err: unknown): boolean {
  return isApiError(err) && err.code === 404;
}

export function isConflict(err: unknown): boolean {
  return isApiError(err) && err.code === 409;
}

/** Logs a failed reconcile once per retry; quiet for conflicts, which are routine. */
export function logReconcileError(name: string, key: string, err: unknown): void {
  if (isConflict(err)) return;
  console.error(`${name}: sync ${key} failed: ${err instanceof Error ? err.message : String(err)}`);
}

/** An RFC 3339 timestamp with whole seconds, as metav1.Time serializes. */
export function rfc3339(d = new Date()): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z');
}
