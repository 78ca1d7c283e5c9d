// IPVS mode's /metrics families: the common ones (no partial syncs in this mode), plus the restore
// failures upstream's IPVS proxier counts (it restores iptables too) and the change counters.

import { changeFamilies, family, noLocalEndpointsFamily, syncFamilies, type MetricFamily, type SyncHistograms } from '../metrics.js';
import type { IpvsProxierMetrics } from './proxier.js';

export function ipvsMetricFamilies(m: IpvsProxierMetrics, h: SyncHistograms, lastQueuedSeconds: number): MetricFamily[] {
  return [
    ...syncFamilies(m, h, lastQueuedSeconds, false),
    family('sync_proxy_rules_iptables_restore_failures_total', m.sync_proxy_rules_iptables_restore_failures_total),
    noLocalEndpointsFamily(m),
    ...changeFamilies(m),
  ];
}
