// --nodeport-addresses (upstream: pkg/proxy/util/nodeport_addresses.go). No CIDRs (or a zero CIDR)
// means "every local address"; otherwise NodePorts are served only on the node's addresses inside
// one of the CIDRs of the proxier's family.

import { cidrContains, formatIP, parseCIDR, parseIP, type IPFamily, type ParsedCIDR } from '../api/ip.js';

export interface NodePortAddresses {
  matchAll: boolean;
  cidrs: ParsedCIDR[];
  /** Some CIDR covers 127.0.0.1 (or all addresses match): localhost NodePorts are possible. */
  containsIPv4Loopback: boolean;
}

const IPV4_LOOPBACK = parseIP('127.0.0.1')!;

export function nodePortAddresses(family: IPFamily, cidrTexts: readonly string[] | null | undefined): NodePortAddresses {
  const cidrs = (cidrTexts ?? []).map((text) => parseCIDR(text)).filter((c): c is ParsedCIDR => c?.family === family);
  if (cidrs.length === 0 || cidrs.some((c) => c.prefix === 0)) {
    // Upstream: an empty list of this family means the zero CIDR of the family.
    return { matchAll: true, cidrs: [], containsIPv4Loopback: family === 'IPv4' };
  }
  return { matchAll: false, cidrs, containsIPv4Loopback: cidrs.some((c) => cidrContains(c, IPV4_LOOPBACK)) };
}

/** The host's addresses (in interface order) that accept NodePort traffic. */
export function nodePortIPs(npa: NodePortAddresses, hostAddresses: readonly string[]): string[] {
  const out: string[] = [];
  for (const text of hostAddresses) {
    const ip = parseIP(text.split('/')[0]!);
    if (ip === undefined || !npa.cidrs.some((c) => cidrContains(c, ip))) continue;
    const canonical = formatIP(ip);
    if (!out.includes(canonical)) out.push(canonical);
  }
  return out;
}
