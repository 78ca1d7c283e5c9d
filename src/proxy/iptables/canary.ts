// The canary of kube-proxy's iptables and ipvs modes (upstream utiliptables.Monitor, started by
// both proxiers with KUBE-PROXY-CANARY in mangle, nat and filter and the sync period as interval).
// An empty chain that no sync writes: it is created with `iptables -N`, outside the restore, so it
// never shows in the rules a sync produces. Someone who flushes the tables (a firewall reload,
// `iptables -F/-X`) deletes it along with kube-proxy's rules; the monitor notices on its next poll
// and asks for a full resync, which puts every rule back. Only the first table is polled, as
// upstream does; once it is gone the others get a short while to disappear too, so the resync
// does not race the rest of the flush. nftables mode has no canary: kube-proxy owns its table there.

import type { IptablesBackend, IptablesTable } from './backend.js';

export const CANARY_CHAIN = 'KUBE-PROXY-CANARY';
export const CANARY_TABLES: readonly IptablesTable[] = ['mangle', 'nat', 'filter'];

/** Upstream iptablesFlushTimeout / iptablesFlushPollTime. */
const FLUSH_TIMEOUT_MS = 5000;
const FLUSH_POLL_MS = 100;

export interface CanaryBackend extends Pick<IptablesBackend, 'ensureChain'> {
  /**
   * Whether the chain exists (`iptables -S CHAIN`). Rejects only when iptables could not look
   * (e.g. the xtables lock timed out): that is not evidence of a flush.
   */
  chainExists(table: IptablesTable, chain: string): Promise<boolean>;
}

export interface CanaryOptions {
  intervalMs: number;
  log?: (msg: string) => void;
}

export class CanaryMonitor {
  private stopped = false;
  private wake: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly backend: CanaryBackend,
    /** Called after each flush seen: the proxier's forced full resync. */
    private readonly onFlushed: () => void,
    private readonly opts: CanaryOptions,
  ) {}

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      // Create the canaries, retrying every interval until all three exist.
      while (!(await this.ensureCanaries())) if (!(await this.sleep(this.opts.intervalMs))) return;
      // Poll the first table's canary until it is gone.
      do if (!(await this.sleep(this.opts.intervalMs))) return;
      while (await this.exists(CANARY_TABLES[0]!, true));
      this.opts.log?.(`iptables canary ${CANARY_TABLES[0]}/${CANARY_CHAIN} deleted`);
      if (!(await this.othersGone())) this.opts.log?.('inconsistent iptables state detected: not every canary was deleted');
      if (this.stopped) return;
      this.opts.log?.('reloading after iptables flush');
      this.onFlushed();
    }
  }

  private async ensureCanaries(): Promise<boolean> {
    for (const table of CANARY_TABLES) {
      try {
        await this.backend.ensureChain(table, CANARY_CHAIN);
      } catch (e) {
        this.opts.log?.(`could not set up iptables canary ${table}/${CANARY_CHAIN}: ${(e as Error).message}`);
        return false;
      }
    }
    return true;
  }

  /** Whether the canary exists; when iptables cannot tell, `ifUnknown`. */
  private async exists(table: IptablesTable, ifUnknown: boolean): Promise<boolean> {
    try {
      return await this.backend.chainExists(table, CANARY_CHAIN);
    } catch (e) {
      this.opts.log?.(`could not check for iptables canary ${table}/${CANARY_CHAIN}: ${(e as Error).message}`);
      return ifUnknown;
    }
  }

  /** Waits (bounded) until the other tables' canaries are gone too; false when they stayed. */
  private async othersGone(): Promise<boolean> {
    for (let waited = 0; ; waited += FLUSH_POLL_MS) {
      let present = false;
      for (const table of CANARY_TABLES.slice(1)) if (await this.exists(table, true)) present = true;
      if (!present) return true;
      if (waited >= FLUSH_TIMEOUT_MS || !(await this.sleep(FLUSH_POLL_MS))) return false;
    }
  }

  /** Resolves true after ms, false at once when stopped. */
  private sleep(ms: number): Promise<boolean> {
    if (this.stopped) return Promise.resolve(false);
    return new Promise((resolve) => {
      this.wake = () => resolve(false);
      this.timer = setTimeout(() => {
        this.wake = undefined;
        resolve(!this.stopped);
      }, ms);
    });
  }
}
