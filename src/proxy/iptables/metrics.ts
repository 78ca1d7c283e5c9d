// The /metrics families of kube-proxy in iptables mode: the common ones plus rule counts per table
// and restore failures (upstream pkg/proxy/metrics, iptables part).

import { changeFamilies, family, noLocalEndpointsFamily, syncFamilies, type MetricFamily, type SyncHistograms } from '../metrics.js';
import type { IptablesProxierMetrics } from './proxier.js';

function byTable(v: { filter: number; nat: number }): { labels: Record<string, string>; value: number }[] {
  return [
    { labels: { table: 'filter' }, value: v.filter },
    { labels: { table: 'nat' }, value: v.nat },
  ];
}

export function iptablesMetricFamilies(m: IptablesProxierMetrics, h: SyncHistograms, lastQueuedSeconds: number): MetricFamily[] {
  return [
    ...syncFamilies(m, h, lastQueuedSeconds, true),
    family('sync_proxy_rules_iptables_total', byTable(m.sync_proxy_rules_iptables_total)),
    family('sync_proxy_rules_iptables_last', byTable(m.sync_proxy_rules_iptables_last)),
    family('sync_proxy_rules_iptables_restore_failures_total', m.sync_proxy_rules_iptables_restore_failures_total),
    family('sync_proxy_rules_iptables_partial_restore_failures_total', m.sync_proxy_rules_iptables_partial_restore_failures_total),
    noLocalEndpointsFamily(m),
    ...changeFamilies(m),
  ];
}
