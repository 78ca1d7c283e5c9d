// IPVS mode's /metrics families: the sync histograms every mode has, plus the counters and gauges
// upstream's IPVS proxier registers (it restores iptables too, so it counts restore failures).

import type { MetricFamily, SyncHistograms } from '../metrics.js';
import type { IpvsProxierMetrics } from './proxier.js';

export function ipvsMetricFamilies(m: IpvsProxierMetrics, h: SyncHistograms, lastQueuedSeconds: number): MetricFamily[] {
  const p = 'kubeproxy_';
  return [
    { name: `${p}sync_proxy_rules_duration_seconds`, help: 'SyncProxyRules latency in seconds', type: 'histogram', value: h.sync_proxy_rules_duration_seconds },
    { name: `${p}sync_full_proxy_rules_duration_seconds`, help: 'SyncProxyRules latency in seconds for full resyncs', type: 'histogram', value: h.sync_full_proxy_rules_duration_seconds },
    { name: `${p}network_programming_duration_seconds`, help: 'In Cluster Network Programming Latency in seconds', type: 'histogram', value: h.network_programming_duration_seconds },
    { name: `${p}sync_proxy_rules_last_timestamp_seconds`, help: 'The last time proxy rules were successfully synced', type: 'gauge', value: m.sync_proxy_rules_last_timestamp_seconds },
    { name: `${p}sync_proxy_rules_last_queued_timestamp_seconds`, help: 'The last time a sync of proxy rules was queued', type: 'gauge', value: lastQueuedSeconds },
    { name: `${p}sync_proxy_rules_iptables_restore_failures_total`, help: 'Cumulative proxy iptables restore failures', type: 'counter', value: m.sync_proxy_rules_iptables_restore_failures_total },
    {
      name: `${p}sync_proxy_rules_no_local_endpoints_total`,
      help: 'Number of services with a Local traffic policy and no endpoints',
      type: 'gauge',
      value: [
        { labels: { traffic_policy: 'internal' }, value: m.sync_proxy_rules_no_local_endpoints_total.internal },
        { labels: { traffic_policy: 'external' }, value: m.sync_proxy_rules_no_local_endpoints_total.external },
      ],
    },
    { name: `${p}sync_proxy_rules_service_changes_total`, help: 'Cumulative proxy rules Service changes', type: 'counter', value: m.sync_proxy_rules_service_changes_total },
    { name: `${p}sync_proxy_rules_endpoint_changes_total`, help: 'Cumulative proxy rules Endpoint changes', type: 'counter', value: m.sync_proxy_rules_endpoint_changes_total },
  ];
}
