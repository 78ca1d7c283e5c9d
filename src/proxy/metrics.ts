// kube-proxy's Prometheus metrics (upstream pkg/proxy/metrics): histograms timed around each sync by
// the runner, plus the counters and gauges the proxier keeps, rendered in the text exposition format.
// The families every mode shows are built here; each mode's folder adds its own (iptables/metrics.ts,
// nftables/metrics.ts, ipvs/metrics.ts).

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

/** Upstream's HELP and TYPE of each family, by its name without the kubeproxy_ prefix. */
const FAMILIES = {
  sync_proxy_rules_duration_seconds: ['SyncProxyRules latency in seconds', 'histogram'],
  sync_full_proxy_rules_duration_seconds: ['SyncProxyRules latency in seconds for full resyncs', 'histogram'],
  sync_partial_proxy_rules_duration_seconds: ['SyncProxyRules latency in seconds for partial resyncs', 'histogram'],
  network_programming_duration_seconds: ['In Cluster Network Programming Latency in seconds', 'histogram'],
  sync_proxy_rules_last_timestamp_seconds: ['The last time proxy rules were successfully synced', 'gauge'],
  sync_proxy_rules_last_queued_timestamp_seconds: ['The last time a sync of proxy rules was queued', 'gauge'],
  sync_proxy_rules_iptables_total: ['Total number of iptables rules owned by kube-proxy', 'gauge'],
  sync_proxy_rules_iptables_last: ['Number of iptables rules written by kube-proxy in last sync', 'gauge'],
  sync_proxy_rules_iptables_restore_failures_total: ['Cumulative proxy iptables restore failures', 'counter'],
  sync_proxy_rules_iptables_partial_restore_failures_total: ['Cumulative proxy iptables partial restore failures', 'counter'],
  sync_proxy_rules_nftables_sync_failures_total: ['Cumulative proxy nftables sync failures', 'counter'],
  sync_proxy_rules_no_local_endpoints_total: ['Number of services with a Local traffic policy and no endpoints', 'gauge'],
  sync_proxy_rules_service_changes_total: ['Cumulative proxy rules Service changes', 'counter'],
  sync_proxy_rules_endpoint_changes_total: ['Cumulative proxy rules Endpoint changes', 'counter'],
} as const satisfies Record<string, readonly [string, MetricType]>;

export type FamilyName = keyof typeof FAMILIES;

export function family(name: FamilyName, value: MetricFamily['value']): MetricFamily {
  const [help, type] = FAMILIES[name];
  return { name: `kubeproxy_${name}`, help, type, value };
}

/** What every mode's proxier counts. */
export interface CommonProxierMetrics {
  sync_proxy_rules_last_timestamp_seconds: number;
  sync_proxy_rules_no_local_endpoints_total: { internal: number; external: number };
}

/** What the proxiers that track Service and EndpointSlice changes count. */
export interface ChangeCounters {
  sync_proxy_rules_service_changes_total: number;
  sync_proxy_rules_endpoint_changes_total: number;
}

/**
 * The sync timings every mode shows: the runner's histograms (the partial one only for modes that
 * sync partially) and the times of the last sync and the last queued one.
 */
export function syncFamilies(m: CommonProxierMetrics, h: SyncHistograms, lastQueuedSeconds: number, partialSyncs: boolean): MetricFamily[] {
  return [
    family('sync_proxy_rules_duration_seconds', h.sync_proxy_rules_duration_seconds),
    family('sync_full_proxy_rules_duration_seconds', h.sync_full_proxy_rules_duration_seconds),
    ...(partialSyncs ? [family('sync_partial_proxy_rules_duration_seconds', h.sync_partial_proxy_rules_duration_seconds)] : []),
    family('network_programming_duration_seconds', h.network_programming_duration_seconds),
    family('sync_proxy_rules_last_timestamp_seconds', m.sync_proxy_rules_last_timestamp_seconds),
    family('sync_proxy_rules_last_queued_timestamp_seconds', lastQueuedSeconds),
  ];
}

export function noLocalEndpointsFamily(m: CommonProxierMetrics): MetricFamily {
  const { internal, external } = m.sync_proxy_rules_no_local_endpoints_total;
  return family('sync_proxy_rules_no_local_endpoints_total', [
    { labels: { traffic_policy: 'internal' }, value: internal },
    { labels: { traffic_policy: 'external' }, value: external },
  ]);
}

export function changeFamilies(m: ChangeCounters): MetricFamily[] {
  return [
    family('sync_proxy_rules_service_changes_total', m.sync_proxy_rules_service_changes_total),
    family('sync_proxy_rules_endpoint_changes_total', m.sync_proxy_rules_endpoint_changes_total),
  ];
}
