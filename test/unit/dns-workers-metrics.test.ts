// One /metrics for a server of several processes: the registry that serves the page adds in its
// workers' snapshots, and what a dead worker counted stays in the totals.

import { describe, expect, it } from 'vitest';
import { countersOf, Metrics } from '../../src/dns/metrics.js';

const HELP = 'help';
const sample = (name: string, text: string): string | undefined => text.split('\n').find((l) => l.startsWith(name))?.split(' ').pop();

function worker(requests: number, entries: number, durations: number[]): Metrics {
  const m = new Metrics();
  m.inc('coredns_dns_requests_total', HELP, { proto: 'udp' }, requests);
  m.set('coredns_hosts_entries', HELP, {}, entries);
  for (const d of durations) m.observe('coredns_dns_request_duration_seconds', HELP, [0.001, 0.01], { type: 'A' }, d);
  return m;
}

describe('metrics across worker processes', () => {
  it('sums counters and histogram buckets of every peer and takes a gauge from the first that has it', () => {
    const a = worker(3, 7, [0.0005, 0.005]);
    const b = worker(4, 9, [0.02]);
    const page = new Metrics(() => [a.snapshot(), b.snapshot()]);
    page.inc('coredns_dns_requests_total', HELP, { proto: 'udp' });
    const text = page.text();
    expect(sample('coredns_dns_requests_total{proto="udp"}', text)).toBe('8');
    expect(sample('coredns_hosts_entries', text)).toBe('7');
    expect(sample('coredns_dns_request_duration_seconds_bucket{type="A",le="0.001"}', text)).toBe('1');
    expect(sample('coredns_dns_request_duration_seconds_bucket{type="A",le="0.01"}', text)).toBe('2');
    expect(sample('coredns_dns_request_duration_seconds_count{type="A"}', text)).toBe('3');
    expect(Number(sample('coredns_dns_request_duration_seconds_sum{type="A"}', text))).toBeCloseTo(0.0255, 6);
  });

  it('keeps a snapshot independent of later counting', () => {
    const a = worker(1, 1, []);
    const snap = a.snapshot();
    a.inc('coredns_dns_requests_total', HELP, { proto: 'udp' }, 5);
    expect(snap.coredns_dns_requests_total?.series[0]?.value).toBe(1);
  });

  it('retires a dead worker with its counters and histograms but without its gauges', () => {
    const dead = worker(5, 9, [0.002]).snapshot();
    const retired = countersOf(countersOf({}, dead), worker(2, 3, []).snapshot());
    expect(Object.keys(retired).sort()).toEqual(['coredns_dns_request_duration_seconds', 'coredns_dns_requests_total']);
    const live = worker(1, 4, []);
    const text = new Metrics(() => [retired, live.snapshot()]).text();
    expect(sample('coredns_dns_requests_total{proto="udp"}', text)).toBe('8');
    expect(sample('coredns_hosts_entries', text)).toBe('4');
  });
});
