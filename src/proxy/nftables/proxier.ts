// The nftables proxier's sync loop body (upstream: Proxier.syncProxyRules in pkg/proxy/nftables).
// It deletes chains that have been stale long enough (own transaction), applies pending Service /
// EndpointSlice changes, asks the pure builder for one transaction and runs it. The first sync,
// every sync after a failure and one an hour are full: they re-create the static objects and
// re-read the chains, sets and elements from the table. Partial syncs read nothing: `nft list`
// of a 10,000-Service table takes seconds (research/baselines.md finding 6), so they work from
// what the proxier itself installed.

import type { CommonProxierMetrics } from '../metrics.js';
import type { NamespacedName } from '../service-port.js';
import { TrackingProxier } from '../tracking-proxier.js';
import type { NftablesBackend } from './backend.js';
import { RenderCache, TRACKED_CONTAINERS, buildSync, staleChainDeletion, type ElementCache } from './builder.js';
import { resolveConfig, type NftablesProxierConfig, type ResolvedNftablesConfig } from './config.js';

/** Upstream proxyutil.FullSyncPeriod. */
export const FULL_SYNC_PERIOD_MS = 60 * 60 * 1000;

export interface NftablesSyncResult {
  ok: boolean;
  fullSync: boolean;
  /** Operations in the main transaction (knftables NumOperations). */
  operations: number;
  error?: Error;
}

export interface NftablesProxierMetrics extends CommonProxierMetrics {
  sync_proxy_rules_nftables_sync_failures_total: number;
}

export class NftablesProxier extends TrackingProxier {
  private readonly cfg: ResolvedNftablesConfig;
  private needFullSync = true;
  private lastFullSync = Number.NEGATIVE_INFINITY;
  private elements: ElementCache = new Map();
  private readonly renderCache = new RenderCache();
  private staleChains = new Map<string, number>();
  private readonly counters: NftablesProxierMetrics = {
    sync_proxy_rules_nftables_sync_failures_total: 0,
    sync_proxy_rules_no_local_endpoints_total: { internal: 0, external: 0 },
    sync_proxy_rules_last_timestamp_seconds: 0,
  };

  constructor(
    config: NftablesProxierConfig,
    private readonly backend: NftablesBackend,
    private readonly now: () => number = Date.now,
  ) {
    super(config.ipFamily, config.nodeName);
    this.cfg = resolveConfig(config);
  }

  forceFullSync(): void {
    this.needFullSync = true;
  }

  metrics(): NftablesProxierMetrics {
    return structuredClone(this.counters);
  }

  async sync(): Promise<NftablesSyncResult> {
    const now = this.now();
    const fullSync = this.needFullSync || now - this.lastFullSync >= FULL_SYNC_PERIOD_MS;

    // Not fatal when it fails: the chains stay stale and are retried next time.
    const deletion = staleChainDeletion(this.staleChains, now);
    if (deletion.transaction.length > 0) {
      try {
        await this.backend.run(deletion.transaction);
        this.staleChains = deletion.remaining;
      } catch {
        // keep this.staleChains as it was
      }
    }

    const serviceUpdate = this.services.update();
    const endpointsUpdate = this.endpoints.update();
    let changedServices: Set<NamespacedName> | undefined;
    if (!fullSync) changedServices = new Set([...serviceUpdate.updatedServices, ...endpointsUpdate.updatedServices]);
    let operations = 0;
    try {
      if (fullSync) this.elements = await this.readElements();
      const out = buildSync(
        {
          services: serviceUpdate.map,
          endpoints: endpointsUpdate.map,
          changedServices,
          existingChains: fullSync ? await this.backend.listChains() : undefined,
          existingSets: fullSync ? await this.backend.listSets() : undefined,
          elements: this.elements,
          staleChains: this.staleChains,
          now,
          cache: this.renderCache,
        },
        this.cfg,
      );
      operations = out.transaction.length;
      await this.backend.run(out.transaction);
      out.commit();
      this.staleChains = out.staleChains;
      this.counters.sync_proxy_rules_no_local_endpoints_total = out.noLocalEndpoints;
    } catch (err) {
      this.counters.sync_proxy_rules_nftables_sync_failures_total++;
      this.needFullSync = true;
      this.staleChains.clear();
      return { ok: false, fullSync, operations, error: err as Error };
    }
    if (fullSync) this.lastFullSync = now;
    this.needFullSync = false;
    this.counters.sync_proxy_rules_last_timestamp_seconds = now / 1000;
    return { ok: true, fullSync, operations };
  }

  /** upstream readOrReset: what the table holds now (nothing when it does not exist yet). */
  private async readElements(): Promise<ElementCache> {
    const cache: ElementCache = new Map();
    for (const name of TRACKED_CONTAINERS) {
      const elements = (await this.backend.listElements(name)) ?? [];
      cache.set(name, new Map(elements.map((e) => [e.key, e.value ?? ''])));
    }
    return cache;
  }
}
