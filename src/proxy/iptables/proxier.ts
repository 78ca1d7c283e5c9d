// The iptables proxier's sync loop body (upstream: Proxier.syncProxyRules). It applies the pending
// Service / EndpointSlice changes, asks the pure builder for the restore text, and hands it to the
// backend in one transaction. A partial sync rewrites only the chains of changed Services; the
// first sync, every sync after a failure and one sync an hour are full.

import type { EndpointInfo } from '../endpoints.js';
import type { ChangeCounters, CommonProxierMetrics } from '../metrics.js';
import type { NamespacedName, ServicePortInfo } from '../service-port.js';
import { TrackingProxier } from '../tracking-proxier.js';
import type { IptablesBackend } from './backend.js';
import { LARGE_CLUSTER_ENDPOINTS_THRESHOLD, RenderCache, baseChainJumps, buildRestore, totalEndpointCount } from './builder.js';
import { resolveConfig, type IptablesProxierConfig, type ResolvedIptablesConfig } from './config.js';

/** Upstream proxyutil.FullSyncPeriod. */
export const FULL_SYNC_PERIOD_MS = 60 * 60 * 1000;

/** Metric values under their upstream names (without the kubeproxy_ prefix). */
export interface IptablesProxierMetrics extends CommonProxierMetrics, ChangeCounters {
  sync_proxy_rules_iptables_last: { filter: number; nat: number };
  sync_proxy_rules_iptables_total: { filter: number; nat: number };
  sync_proxy_rules_iptables_restore_failures_total: number;
  sync_proxy_rules_iptables_partial_restore_failures_total: number;
}

export interface SyncResult {
  ok: boolean;
  fullSync: boolean;
  /** The restore text this sync produced (also when applying it failed). */
  restore: string;
  error?: Error;
}

export class IptablesProxier extends TrackingProxier {
  private readonly cfg: ResolvedIptablesConfig;
  private serviceMap = new Map<string, ServicePortInfo>();
  private endpointsMap = new Map<string, EndpointInfo[]>();
  private readonly renderCache = new RenderCache();
  /**
   * The nat chains believed to exist: read from the kernel on every full sync, then kept up to
   * date from what each sync declares and deletes, so partial syncs need no iptables-save (3 s at
   * 10,000 Services with iptables-nft, research/baselines.md finding 5).
   */
  private natChains = new Set<string>();
  private needFullSync = true;
  private lastFullSync = Number.NEGATIVE_INFINITY;
  private lastCleanup = Number.NEGATIVE_INFINITY;
  private readonly counters: Omit<IptablesProxierMetrics, keyof ChangeCounters> = {
    sync_proxy_rules_iptables_last: { filter: 0, nat: 0 },
    sync_proxy_rules_iptables_total: { filter: 0, nat: 0 },
    sync_proxy_rules_iptables_restore_failures_total: 0,
    sync_proxy_rules_iptables_partial_restore_failures_total: 0,
    sync_proxy_rules_no_local_endpoints_total: { internal: 0, external: 0 },
    sync_proxy_rules_last_timestamp_seconds: 0,
  };

  constructor(
    private readonly config: IptablesProxierConfig,
    private readonly backend: IptablesBackend,
    private readonly now: () => number = Date.now,
  ) {
    super(config.ipFamily, config.nodeName);
    this.cfg = resolveConfig(config);
  }

  /** Make the next sync a full one (e.g. the canary chain vanished: someone flushed the tables). */
  forceFullSync(): void {
    this.needFullSync = true;
  }

  metrics(): IptablesProxierMetrics {
    return structuredClone({ ...this.counters, ...this.changeCounters });
  }

  async sync(): Promise<SyncResult> {
    const now = this.now();
    const tryPartialSync = !this.needFullSync && now - this.lastFullSync < FULL_SYNC_PERIOD_MS;
    const serviceUpdate = this.services.update();
    const endpointsUpdate = this.endpoints.update();
    this.serviceMap = serviceUpdate.map;
    this.endpointsMap = endpointsUpdate.map;
    const largeClusterMode = totalEndpointCount(this.serviceMap, this.endpointsMap) > LARGE_CLUSTER_ENDPOINTS_THRESHOLD;

    try {
      if (!tryPartialSync) {
        for (const jump of baseChainJumps(this.cfg)) {
          await this.backend.ensureChain(jump.table, jump.to);
          await this.backend.ensureRuleFirst(jump.table, jump.from, jump.args);
        }
      }
    } catch (err) {
      this.needFullSync = true;
      return { ok: false, fullSync: !tryPartialSync, restore: '', error: err as Error };
    }

    // Stale chains are looked for on every sync of a small cluster, once per syncPeriod in a large one.
    const cleanup = !largeClusterMode || now - this.lastCleanup > this.config.syncPeriodMs;
    if (!tryPartialSync) this.natChains = new Set(await this.backend.listChains('nat').catch(() => []));
    const existingNatChains = cleanup ? this.natChains : undefined;
    let changedServices: Set<NamespacedName> | undefined;
    if (tryPartialSync) changedServices = new Set([...serviceUpdate.updatedServices, ...endpointsUpdate.updatedServices]);

    const out = buildRestore(
      { services: this.serviceMap, endpoints: this.endpointsMap, changedServices, existingNatChains, largeClusterMode, cache: this.renderCache },
      this.cfg,
    );
    if (existingNatChains !== undefined) this.lastCleanup = now;
    try {
      await this.backend.restore(out.restore, { fullSync: !tryPartialSync });
    } catch (err) {
      this.counters.sync_proxy_rules_iptables_restore_failures_total++;
      if (tryPartialSync) this.counters.sync_proxy_rules_iptables_partial_restore_failures_total++;
      this.needFullSync = true;
      return { ok: false, fullSync: !tryPartialSync, restore: out.restore, error: err as Error };
    }
    for (const chain of out.writtenNatChains) this.natChains.add(chain);
    for (const chain of out.deletedNatChains) this.natChains.delete(chain);
    if (!tryPartialSync) this.lastFullSync = now;
    this.needFullSync = false;
    this.counters.sync_proxy_rules_iptables_last = out.rulesWritten;
    this.counters.sync_proxy_rules_iptables_total = out.rulesTotal;
    this.counters.sync_proxy_rules_no_local_endpoints_total = out.noLocalEndpoints;
    this.counters.sync_proxy_rules_last_timestamp_seconds = now / 1000;
    return { ok: true, fullSync: !tryPartialSync, restore: out.restore };
  }
}
