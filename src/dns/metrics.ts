// A tiny Prometheus registry: counters and histograms with labels, rendered in the text format
// under CoreDNS's metric names (coredns_dns_requests_total, ...).

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

interface Family {
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  buckets?: number[];
  series: Map<string, { labels: Labels; value: number; counts?: number[]; sum?: number }>;
}

export const DURATION_BUCKETS = [0.00025, 0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024, 2.048, 4.096, 8.192];
export const SIZE_BUCKETS = [0, 100, 200, 300, 400, 511, 1023, 2047, 4095, 8291, 16000, 32000, 48000, 64000];

export class Metrics {
  private readonly families = new Map<string, Family>();

  private family(name: string, help: string, type: Family['type'], buckets?: number[]): Family {
    let f = this.families.get(name);
    if (!f) {
      f = { help, type, series: new Map(), ...(buckets ? { buckets } : {}) };
      this.families.set(name, f);
    }
    return f;
  }

  private series(f: Family, labels: Labels) {
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
    const s = this.series(this.family(name, help, 'histogram', buckets), labels);
    s.value++;
    s.sum! += v;
    buckets.forEach((b, i) => {
      if (v <= b) s.counts![i]!++;
    });
  }

  text(): string {
    const out: string[] = [];
    for (const [name, f] of [...this.families].sort(([a], [b]) => a.localeCompare(b))) {
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
