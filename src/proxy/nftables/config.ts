// Settings of the nftables proxier and the resolved form the builder works from.

import { nodePortAddresses, nodePortIPs } from '../node-port-addresses.js';
import type { ProxierConfig } from '../proxier-config.js';
import type { NftFamily } from './table.js';

/** No nodePortAddresses means "primary" in this mode: NodePorts on the node IP only. */
export interface NftablesProxierConfig extends ProxierConfig {
  /** Service CIDRs: traffic to unallocated IPs in them is dropped. */
  serviceCIDRs: readonly string[];
}

export interface ResolvedNftablesConfig {
  family: NftFamily;
  /** "ipv4_addr" / "ipv6_addr" */
  addrType: string;
  nodeIP: string;
  masqueradeAll: boolean;
  masqueradeMark: string;
  clusterCIDR?: string;
  /** undefined: every local address takes NodePorts (fib daddr type local). */
  nodePortIPs?: string[];
  serviceCIDRs: readonly string[];
}

export function resolveConfig(config: NftablesProxierConfig): ResolvedNftablesConfig {
  const explicit = config.nodePortAddresses ?? [];
  let ips: string[] | undefined = [config.nodeIP];
  if (explicit.length > 0) {
    const npa = nodePortAddresses(config.ipFamily, explicit);
    ips = npa.matchAll ? undefined : nodePortIPs(npa, config.hostAddresses);
  }
  const v4 = config.ipFamily === 'IPv4';
  return {
    family: v4 ? 'ip' : 'ip6',
    addrType: v4 ? 'ipv4_addr' : 'ipv6_addr',
    nodeIP: config.nodeIP,
    masqueradeAll: config.masqueradeAll,
    masqueradeMark: config.masqueradeMark,
    clusterCIDR: config.clusterCIDR,
    nodePortIPs: ips,
    serviceCIDRs: config.serviceCIDRs,
  };
}
