// When kube-proxy syncs (upstream async.BoundedFrequencyRunner): a token bucket of `burst` syncs
// refilled at one per minInterval. A change asks for a sync, which runs at once while a token is
// left — so a change after a quiet period is programmed without delay — and otherwise when the
// next token arrives, all changes in between sharing that one sync. With no change a sync still
// runs every maxInterval; a failed sync is retried after retryInterval. Syncs never overlap.

export interface SyncRunnerOptions {
  minIntervalMs: number;
  maxIntervalMs: number;
  retryIntervalMs: number;
  /** Syncs allowed back to back before minInterval applies (upstream kube-proxy: 2). */
  burst?: number;
}

export class SyncRunner {
  private timer: NodeJS.Timeout | undefined;
  private nextAt = Number.POSITIVE_INFINITY;
  private running: Promise<void> | undefined;
  private requested = false;
  private stopped = false;
  private readonly burst: number;
  private tokens: number;
  private tokensAt: number;

  /** sync resolves true on success. */
  constructor(
    private readonly sync: () => Promise<boolean>,
    private readonly opts: SyncRunnerOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.burst = Math.max(1, opts.burst ?? 2);
    this.tokens = this.burst;
    this.tokensAt = now();
  }

  /** Ask for a sync as soon as the rate limit allows. */
  run(): void {
    if (this.stopped) return;
    if (this.running) {
      this.requested = true;
      return;
    }
    this.scheduleAt(this.nextTokenAt());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private refill(): void {
    const now = this.now();
    if (this.opts.minIntervalMs <= 0) this.tokens = this.burst;
    else this.tokens = Math.min(this.burst, this.tokens + (now - this.tokensAt) / this.opts.minIntervalMs);
    this.tokensAt = now;
  }

  /** When a token is (or will be) available. */
  private nextTokenAt(): number {
    this.refill();
    return this.tokens >= 1 ? this.now() : this.now() + Math.ceil((1 - this.tokens) * this.opts.minIntervalMs);
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
    this.refill();
    this.tokens = Math.max(0, this.tokens - 1);
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
