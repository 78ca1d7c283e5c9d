// The shape every kube-controller-manager controller here has: one ControllerLoop over the keys the
// controller answers for, reconciled one key at a time by sync. A subclass registers its informer
// handlers in its constructor (they call this.loop.enqueue) and says which keys a resync visits.

import { ControllerLoop, logReconcileError, type Controller, type ReconcileResult } from './controller.js';

export interface LoopOptions {
  /** Full resync period (default 30 s). */
  resyncMs?: number;
  /** Keys reconciled at once (default 1). */
  workers?: number;
}

export abstract class LoopController implements Controller {
  protected readonly loop: ControllerLoop;

  constructor(name: string, opts: LoopOptions = {}) {
    // keys and sync are looked up when the loop runs, after the subclass has set up its informers.
    this.loop = new ControllerLoop({ name, reconcile: (key) => this.sync(key), listKeys: () => this.keys(), onError: logReconcileError, ...opts });
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** Every key a full resync enqueues. */
  protected abstract keys(): string[];

  /** Converges the real state of one key to what the cache says it should be. */
  protected abstract sync(key: string): Promise<ReconcileResult | void>;
}
