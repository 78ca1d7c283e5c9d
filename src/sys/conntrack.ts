// Deleting conntrack entries with the conntrack tool, as kube-proxy did before its netlink
// reconciler: UDP has no close, so a flow still DNATed to a removed endpoint (or created while the
// Service rejected traffic) keeps black-holing a client that reuses its source port. TCP is never
// touched. "No entry matched" is not an error.

import type { IPFamily } from '../api/ip.js';
import { execIn, type Netns } from './netns.js';

/** What to delete; every variant is UDP only. */
export type ConntrackDeletion =
  | { kind: 'endpoint'; family: IPFamily; serviceIP: string; endpointIP: string }
  | { kind: 'service-ip'; family: IPFamily; serviceIP: string }
  | { kind: 'node-port'; family: IPFamily; port: number };

/** The conntrack arguments for one deletion (pure, for tests and `kemu rules`). */
export function conntrackDeleteArgs(d: ConntrackDeletion): string[] {
  const family = d.family === 'IPv6' ? ['-f', 'ipv6'] : [];
  switch (d.kind) {
    case 'endpoint':
      return ['-D', '--orig-dst', d.serviceIP, '--dst-nat', d.endpointIP, '-p', 'udp', ...family];
    case 'service-ip':
      return ['-D', '--orig-dst', d.serviceIP, '-p', 'udp', ...family];
    case 'node-port':
      return ['-D', '-p', 'udp', '--dport', String(d.port), ...family];
  }
}

/** Runs one deletion; resolves with the number of flows deleted. */
export async function deleteConntrack(ns: Netns | undefined, d: ConntrackDeletion): Promise<number> {
  const r = await execIn(ns, 'conntrack', conntrackDeleteArgs(d), { allowFailure: true, timeoutMs: 10_000 });
  const m = /(\d+) flow entries have been deleted/.exec(r.stderr + r.stdout);
  // conntrack exits 1 when nothing matched; it still prints the summary line.
  if (r.code !== 0 && !m) throw new Error(`conntrack ${conntrackDeleteArgs(d).join(' ')}: exit code ${r.code}: ${r.stderr.trim()}`);
  return m ? Number(m[1]) : 0;
}
