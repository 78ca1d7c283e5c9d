// The IPVS proxier's sync loop body (upstream: Proxier.syncProxyRules in pkg/proxy/ipvs). Every sync
// is a full one, as upstream's: apply the pending Service / EndpointSlice changes, build the whole
// desired state, and converge kube-ipvs0, the ipsets, the iptables chains and the IPVS table to it
// (sets before the rules that match them). Each step reads the kernel's state first, so a sync also
// repairs what someone else changed. Real servers left draining are deleted by later syncs and by
// a periodic check (upstream's GracefulTerminationManager, once a minute).

import type { IptablesBackend, IptablesTable } from '../iptables/backend.js';
import type { ChangeCounters, CommonProxierMetrics } from '../metrics.js';
import { TrackingProxier } from '../tracking-proxier.js';
import type { IpvsBackend } from './backend.js';
import { buildDesiredState } from './builder.js';
import { resolveConfig, type IpvsProxierConfig, type ResolvedIpvsConfig } from './config.js';
import { CHAINS } from './names.js';
import { planAddresses, planIpsets, planIpvs } from './plan.js';
import type { VirtualServer } from './state.js';

/** Upstream proxyutil.FullSyncPeriod: the base-chain jumps are re-checked this often. */
export const FULL_SYNC_PERIOD_MS = 60 * 60 * 1000;
/** Upstream rsCheckDeleteInterval. */
export const DRAIN_CHECK_INTERVAL_MS = 60 * 1000;

export interface IpvsProxierMetrics extends CommonProxierMetrics, ChangeCounters {
  sync_proxy_rules_iptables_restore_failures_total: number;
}

export interface IpvsSyncResult {
  ok: boolean;
  /** Whether the base-chain jumps were checked too. */
  fullSync: boolean;
  /** Real servers left draining ("vs/rs"). */
  draining: string[];
  error?: Error;
}

interface BaseChainJump {
  table: IptablesTable;
  from: string;
  to: string;
  comment: string;
}

/** upstream iptablesJumpChain, in its order; each jump is prepended to the built-in chain. */
const JUMPS: readonly BaseChainJump[] = [
  { table: 'nat', from: 'OUTPUT', to: CHAINS.services, comment: 'kubernetes service portals' },
  { table: 'nat', from: 'PREROUTING', to: CHAINS.services, comment: 'kubernetes service portals' },
  { table: 'nat', from: 'POSTROUTING', to: CHAINS.postrouting, comment: 'kubernetes postrouting rules' },
  { table: 'filter', from: 'FORWARD', to: CHAINS.forward, comment: 'kubernetes forwarding rules' },
  { table: 'filter', from: 'INPUT', to: CHAINS.nodePort, comment: 'kubernetes health check rules' },
  { table: 'filter', from: 'INPUT', to: CHAINS.proxyFirewall, comment: 'kube-proxy firewall rules' },
  { table: 'filter', from: 'FORWARD', to: CHAINS.proxyFirewall, comment: 'kube-proxy firewall rules' },
  { table: 'filter', from: 'INPUT', to: CHAINS.ipvsFilter, comment: 'kubernetes ipvs access filter' },
  { table: 'filter', from: 'OUTPUT', to: CHAINS.ipvsOutFilter, comment: 'kubernetes ipvs access filter' },
];

export class IpvsProxier extends TrackingProxier {
  private readonly cfg: ResolvedIpvsConfig;
  private needFullSync = true;
  private lastFullSync = Number.NEGATIVE_INFINITY;
  /** The virtual servers of the last successful build: what drain checks compare against. */
  private desiredServers: VirtualServer[] | undefined;
  /** Syncs and drain checks run one at a time. */
  private queue: Promise<unknown> = Promise.resolve();
  private drainTimer: NodeJS.Timeout | undefined;
  private readonly counters: Omit<IpvsProxierMetrics, keyof ChangeCounters> = {
    sync_proxy_rules_iptables_restore_failures_total: 0,
    sync_proxy_rules_no_local_endpoints_total: { internal: 0, external: 0 },
    sync_proxy_rules_last_timestamp_seconds: 0,
  };

  constructor(
    config: IpvsProxierConfig,
    private readonly ipvs: IpvsBackend,
    private readonly iptables: IptablesBackend,
    private readonly now: () => number = Date.now,
  ) {
    super(config.ipFamily, config.nodeName);
    this.cfg = resolveConfig(config);
  }

  metrics(): IpvsProxierMetrics {
    return structuredClone({ ...this.counters, ...this.changeCounters });
  }

  /** Check draining real servers every intervalMs until stop(). */
  startDrainChecks(intervalMs = DRAIN_CHECK_INTERVAL_MS, onError: (e: Error) => void = () => {}): void {
    this.drainTimer ??= setInterval(() => void this.deleteDrained().catch(onError), intervalMs);
  }

  stop(): void {
    clearInterval(this.drainTimer);
    this.drainTimer = undefined;
  }

  sync(): Promise<IpvsSyncResult> {
    return this.serialized(() => this.syncNow());
  }

  /** Delete the draining real servers that have no connections left; the ones still draining. */
  /** Make the next sync a full one (the canary chain vanished: someone flushed the tables). */
  forceFullSync(): void {
    this.needFullSync = true;
  }

  deleteDrained(): Promise<string[]> {
    return this.serialized(async () => {
      if (this.desiredServers === undefined) return [];
      const plan = planIpvs(await this.ipvs.listVirtualServers(), this.desiredServers);
      await this.ipvs.applyIpvs(plan.ops.filter((o) => o.op === 'delete-server'));
      return plan.draining;
    });
  }

  private serialized<T>(step: () => Promise<T>): Promise<T> {
    const next = this.queue.then(step, step);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async syncNow(): Promise<IpvsSyncResult> {
    const now = this.now();
    const fullSync = this.needFullSync || now - this.lastFullSync >= FULL_SYNC_PERIOD_MS;
    const desired = buildDesiredState({ services: this.services.update().map, endpoints: this.endpoints.update().map }, this.cfg);
    try {
      if (fullSync) {
        for (const jump of JUMPS) {
          await this.iptables.ensureChain(jump.table, jump.to);
          await this.iptables.ensureRuleFirst(jump.table, jump.from, ['-m', 'comment', '--comment', jump.comment, '-j', jump.to]);
        }
      }
      const addresses = planAddresses(await this.ipvs.ensureDummy(), desired.dummyAddresses);
      if (addresses.add.length + addresses.del.length > 0) await this.ipvs.changeDummyAddresses(addresses.add, addresses.del);
      const family = this.cfg.ipFamily === 'IPv4' ? 'inet' : 'inet6';
      const setOps = planIpsets(await this.ipvs.listIpsets(), desired.ipsets, family);
      if (setOps.length > 0) await this.ipvs.applyIpsets(setOps);
      try {
        await this.iptables.restore(desired.iptablesRestore);
      } catch (err) {
        this.counters.sync_proxy_rules_iptables_restore_failures_total++;
        throw err;
      }
      const plan = planIpvs(await this.ipvs.listVirtualServers(), desired.virtualServers);
      if (plan.ops.length > 0) await this.ipvs.applyIpvs(plan.ops);
      this.desiredServers = desired.virtualServers;
      if (fullSync) this.lastFullSync = now;
      this.needFullSync = false;
      this.counters.sync_proxy_rules_no_local_endpoints_total = desired.noLocalEndpoints;
      this.counters.sync_proxy_rules_last_timestamp_seconds = now / 1000;
      return { ok: true, fullSync, draining: plan.draining };
    } catch (err) {
      this.needFullSync = true;
      return { ok: false, fullSync, draining: [], error: err as Error };
    }
  }
}
