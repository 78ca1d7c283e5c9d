// When kube-proxy syncs (upstream async.BoundedFrequencyRunner): a change asks for a sync, which
// runs at once unless the previous one started less than minInterval ago (then it waits, and all
// changes in between share one sync); with no change a sync still runs every maxInterval; a failed
// sync is retried after retryInterval. Syncs never overlap.

export interface SyncRunnerOptions {
  minIntervalMs: number;
  maxIntervalMs: number;
  retryIntervalMs: number;
}

export class SyncRunner {
  private timer: NodeJS.Timeout | undefined;
  private nextAt = Number.POSITIVE_INFINITY;
  private lastStart = Number.NEGATIVE_INFINITY;
  private running: Promise<void> | undefined;
  private requested = false;
  private stopped = false;

  /** sync resolves true on success. */
  constructor(
    private readonly sync: () => Promise<boolean>,
    private readonly opts: SyncRunnerOptions,
    private readonly now: () => number = Date.now,
  ) {}

  /** Ask for a sync as soon as minInterval allows. */
  run(): void {
    if (this.stopped) return;
    if (this.running) {
      this.requested = true;
      return;
    }
    this.scheduleAt(Math.max(this.now(), this.lastStart + this.opts.minIntervalMs));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** Moves the next sync earlier (never later) to at. */
  private scheduleAt(at: number): void {
    if (this.stopped || at >= this.nextAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.nextAt = at;
    this.timer = setTimeout(() => void this.fire(), Math.max(0, at - this.now()));
  }

  private async fire(): Promise<void> {
    this.timer = undefined;
    this.nextAt = Number.POSITIVE_INFINITY;
    this.requested = false;
    this.lastStart = this.now();
    let ok = false;
    this.running = this.sync().then(
      (result) => void (ok = result),
      () => void (ok = false),
    );
    await this.running;
    this.running = undefined;
    if (this.stopped) return;
    if (this.requested) this.run();
    this.scheduleAt(this.now() + (ok ? this.opts.maxIntervalMs : this.opts.retryIntervalMs));
  }
}
