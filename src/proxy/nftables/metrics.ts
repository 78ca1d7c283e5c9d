// The /metrics families of kube-proxy in nftables mode: the common ones plus sync failures
// (upstream pkg/proxy/metrics, nftables part).

import { family, noLocalEndpointsFamily, syncFamilies, type MetricFamily, type SyncHistograms } from '../metrics.js';
import type { NftablesProxierMetrics } from './proxier.js';

export function nftablesMetricFamilies(m: NftablesProxierMetrics, h: SyncHistograms, lastQueuedSeconds: number): MetricFamily[] {
  return [
    ...syncFamilies(m, h, lastQueuedSeconds, true),
    family('sync_proxy_rules_nftables_sync_failures_total', m.sync_proxy_rules_nftables_sync_failures_total),
    noLocalEndpointsFamily(m),
  ];
}
