// kube-proxy's Prometheus metrics (upstream pkg/proxy/metrics): histograms timed around each sync by
// the runner, plus the counters and gauges the proxier keeps, rendered in the text exposition format.

import type { IptablesProxierMetrics } from './iptables/proxier.js';

export class Histogram {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;

  constructor(readonly buckets: readonly number[]) {
    this.counts = buckets.map(() => 0);
  }

  observe(value: number): void {
    this.sum += value;
    this.count++;
    this.buckets.forEach((le, i) => {
      if (value <= le) this.counts[i]++;
    });
  }

  /** Exposition lines of this histogram under name (no HELP/TYPE). */
  lines(name: string): string[] {
    const out = this.buckets.map((le, i) => `${name}_bucket{le="${le}"} ${this.counts[i]}`);
    out.push(`${name}_bucket{le="+Inf"} ${this.count}`, `${name}_sum ${this.sum}`, `${name}_count ${this.count}`);
    return out;
  }
}

function exponential(start: number, factor: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => start * factor ** i);
}

function linear(start: number, width: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => start + width * i);
}

/** Upstream's buckets: sync durations 1 ms doubling 15 times; programming latency up to 5 min. */
export const SYNC_DURATION_BUCKETS = exponential(0.001, 2, 15);
export const NETWORK_PROGRAMMING_BUCKETS = [...linear(0.25, 0.25, 2), ...linear(1, 1, 59), ...linear(60, 5, 12), ...linear(120, 30, 7)];

export type MetricType = 'counter' | 'gauge' | 'histogram';

export interface MetricFamily {
  /** Full name, e.g. kubeproxy_sync_proxy_rules_last_timestamp_seconds. */
  name: string;
  help: string;
  type: MetricType;
  /** Value lines: a number for a plain sample, labelled samples, or a histogram. */
  value: number | { labels: Record<string, string>; value: number }[] | Histogram;
}

function labelText(labels: Record<string, string>): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

export function renderMetrics(families: readonly MetricFamily[]): string {
  const lines: string[] = [];
  for (const f of families) {
    lines.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`);
    if (f.value instanceof Histogram) lines.push(...f.value.lines(f.name));
    else if (typeof f.value === 'number') lines.push(`${f.name} ${f.value}`);
    else for (const s of f.value) lines.push(`${f.name}${labelText(s.labels)} ${s.value}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The histograms the sync runner times (upstream names without the kubeproxy_ prefix). */
export class SyncHistograms {
  readonly sync_proxy_rules_duration_seconds = new Histogram(SYNC_DURATION_BUCKETS);
  readonly sync_full_proxy_rules_duration_seconds = new Histogram(SYNC_DURATION_BUCKETS);
  readonly sync_partial_proxy_rules_duration_seconds = new Histogram(SYNC_DURATION_BUCKETS);
  readonly network_programming_duration_seconds = new Histogram(NETWORK_PROGRAMMING_BUCKETS);
}

export function iptablesMetricFamilies(m: IptablesProxierMetrics, h: SyncHistograms, lastQueuedSeconds: number): MetricFamily[] {
  const byTable = (v: { filter: number; nat: number }) => [
    { labels: { table: 'filter' }, value: v.filter },
    { labels: { table: 'nat' }, value: v.nat },
  ];
  const p = 'kubeproxy_';
  return [
    { name: `${p}sync_proxy_rules_duration_seconds`, help: 'SyncProxyRules latency in seconds', type: 'histogram', value: h.sync_proxy_rules_duration_seconds },
    { name: `${p}sync_full_proxy_rules_duration_seconds`, help: 'SyncProxyRules latency in seconds for full resyncs', type: 'histogram', value: h.sync_full_proxy_rules_duration_seconds },
    { name: `${p}sync_partial_proxy_rules_duration_seconds`, help: 'SyncProxyRules latency in seconds for partial resyncs', type: 'histogram', value: h.sync_partial_proxy_rules_duration_seconds },
    { name: `${p}network_programming_duration_seconds`, help: 'In Cluster Network Programming Latency in seconds', type: 'histogram', value: h.network_programming_duration_seconds },
    { name: `${p}sync_proxy_rules_last_timestamp_seconds`, help: 'The last time proxy rules were successfully synced', type: 'gauge', value: m.sync_proxy_rules_last_timestamp_seconds },
    { name: `${p}sync_proxy_rules_last_queued_timestamp_seconds`, help: 'The last time a sync of proxy rules was queued', type: 'gauge', value: lastQueuedSeconds },
    { name: `${p}sync_proxy_rules_iptables_total`, help: 'Total number of iptables rules owned by kube-proxy', type: 'gauge', value: byTable(m.sync_proxy_rules_iptables_total) },
    { name: `${p}sync_proxy_rules_iptables_last`, help: 'Number of iptables rules written by kube-proxy in last sync', type: 'gauge', value: byTable(m.sync_proxy_rules_iptables_last) },
    { name: `${p}sync_proxy_rules_iptables_restore_failures_total`, help: 'Cumulative proxy iptables restore failures', type: 'counter', value: m.sync_proxy_rules_iptables_restore_failures_total },
    { name: `${p}sync_proxy_rules_iptables_partial_restore_failures_total`, help: 'Cumulative proxy iptables partial restore failures', type: 'counter', value: m.sync_proxy_rules_iptables_partial_restore_failures_total },
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
