// A tiny Prometheus registry: counters, gauges and histograms with labels, rendered in the text
// format under CoreDNS's metric names (coredns_dns_requests_total, ...).
//
// A server of several processes (src/dns/workers) serves one /metrics: each worker sends its
// registry as a snapshot, and the registry of the process that serves the page adds those in
// (`peers`). Counters and histograms are summed; a gauge is taken from the first source that has
// the series (every worker runs the same configuration, so they agree).

type Labels = Record<string, string>;

const keys = new WeakMap<Labels, string>();
/** Series key of a label set; memoised per object, so a caller that reuses its label objects pays once. */
const key = (l: Labels): string => {
  let k = keys.get(l);
  if (k === undefined) keys.set(l, (k = JSON.stringify(Object.entries(l).sort(([a], [b]) => a.localeCompare(b)))));
  return k;
};
const render = (l: Labels): string => {
  const parts = Object.entries(l).map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`))}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
};

interface Series {
  labels: Labels;
  value: number;
  counts?: number[];
  sum?: number;
}

interface Family {
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  buckets?: number[];
  series: Map<string, Series>;
}

/** A registry as plain data, for sending to another process (structured-clone and JSON safe). */
export type MetricsSnapshot = Record<string, { help: string; type: Family['type']; buckets?: number[]; series: Series[] }>;

export const DURATION_BUCKETS = [0.00025, 0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024, 2.048, 4.096, 8.192];
export const SIZE_BUCKETS = [0, 100, 200, 300, 400, 511, 1023, 2047, 4095, 8291, 16000, 32000, 48000, 64000];

/** Adds `snap` into `families`: sums counters and histograms, keeps a gauge already there. */
function absorb(families: Map<string, Family>, snap: MetricsSnapshot): void {
  for (const [name, f] of Object.entries(snap)) {
    let into = families.get(name);
    if (!into) families.set(name, (into = { help: f.help, type: f.type, series: new Map(), ...(f.buckets ? { buckets: f.buckets } : {}) }));
    for (const s of f.series) {
      const k = key(s.labels);
      const have = into.series.get(k);
      if (!have) {
        into.series.set(k, { labels: s.labels, value: s.value, ...(s.counts ? { counts: [...s.counts], sum: s.sum ?? 0 } : {}) });
        continue;
      }
      if (f.type === 'gauge') continue;
      have.value += s.value;
      if (have.counts && s.counts) {
        have.sum = (have.sum ?? 0) + (s.sum ?? 0);
        s.counts.forEach((c, i) => (have.counts![i] = (have.counts![i] ?? 0) + c));
      }
    }
  }
}

function snapshotOf(families: Map<string, Family>, keep: (f: Family) => boolean = () => true): MetricsSnapshot {
  const out: MetricsSnapshot = {};
  for (const [name, f] of families) {
    if (!keep(f)) continue;
    out[name] = { help: f.help, type: f.type, ...(f.buckets ? { buckets: f.buckets } : {}), series: [...f.series.values()].map((s) => ({ ...s, ...(s.counts ? { counts: [...s.counts] } : {}) })) };
  }
  return out;
}

/**
 * The counters and histograms of several snapshots summed, gauges left out: what a worker that
 * is gone still contributes, so totals on /metrics never go backwards when it is replaced.
 */
export function countersOf(...snaps: MetricsSnapshot[]): MetricsSnapshot {
  const families = new Map<string, Family>();
  for (const s of snaps) absorb(families, s);
  return snapshotOf(families, (f) => f.type !== 'gauge');
}

export interface Counter {
  inc(): void;
}

export interface Histogram {
  observe(v: number): void;
}

/** Counts `v` into a histogram series; `counts[i]` is the cumulative count of bucket `buckets[i]`. */
function record(s: Series, buckets: number[], v: number): void {
  s.value++;
  s.sum! += v;
  for (let i = buckets.length - 1; i >= 0 && v <= buckets[i]!; i--) s.counts![i]!++;
}

export class Metrics {
  private readonly families = new Map<string, Family>();

  /** `peers`: registries of other processes of the same server, added in when rendering. */
  constructor(private readonly peers?: () => MetricsSnapshot[]) {}

  private family(name: string, help: string, type: Family['type'], buckets?: number[]): Family {
    let f = this.families.get(name);
    if (!f) {
      f = { help, type, series: new Map(), ...(buckets ? { buckets } : {}) };
      this.families.set(name, f);
    }
    return f;
  }

  private series(f: Family, labels: Labels): Series {
    const k = key(labels);
    let s = f.series.get(k);
    if (!s) {
      s = { labels, value: 0, ...(f.buckets ? { counts: f.buckets.map(() => 0), sum: 0 } : {}) };
      f.series.set(k, s);
    }
    return s;
  }

  inc(name: string, help: string, labels: Labels = {}, by = 1): void {
    this.series(this.family(name, help, 'counter'), labels).value += by;
  }

  set(name: string, help: string, labels: Labels, value: number): void {
    this.series(this.family(name, help, 'gauge'), labels).value = value;
  }

  observe(name: string, help: string, buckets: number[], labels: Labels, v: number): void {
    record(this.series(this.family(name, help, 'histogram', buckets), labels), buckets, v);
  }

  /** One counter series, found once: for a hot path that counts into the same labels again and again. */
  counter(name: string, help: string, labels: Labels): Counter {
    const s = this.series(this.family(name, help, 'counter'), labels);
    return { inc: () => void s.value++ };
  }

  /** One histogram series, found once (see counter). */
  histogram(name: string, help: string, buckets: number[], labels: Labels): Histogram {
    const s = this.series(this.family(name, help, 'histogram', buckets), labels);
    return { observe: (v) => record(s, buckets, v) };
  }

  /** This registry alone, as plain data. */
  snapshot(): MetricsSnapshot {
    return snapshotOf(this.families);
  }

  text(): string {
    let families = this.families;
    const peers = this.peers?.() ?? [];
    if (peers.length > 0) {
      families = new Map();
      for (const s of [this.snapshot(), ...peers]) absorb(families, s);
    }
    const out: string[] = [];
    for (const [name, f] of [...families].sort(([a], [b]) => a.localeCompare(b))) {
      out.push(`# HELP ${name} ${f.help}`, `# TYPE ${name} ${f.type}`);
      for (const s of f.series.values()) {
        if (!f.buckets) {
          out.push(`${name}${render(s.labels)} ${s.value}`);
          continue;
        }
        f.buckets.forEach((b, i) => out.push(`${name}_bucket${render({ ...s.labels, le: String(b) })} ${s.counts![i]}`));
        out.push(`${name}_bucket${render({ ...s.labels, le: '+Inf' })} ${s.value}`);
        out.push(`${name}_sum${render(s.labels)} ${s.sum}`, `${name}_count${render(s.labels)} ${s.value}`);
      }
    }
    return `${out.join('\n')}\n`;
  }
}
