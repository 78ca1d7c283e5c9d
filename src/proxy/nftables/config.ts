// Settings of the nftables proxier and the resolved form the builder works from.

import type { IPFamily } from '../ip.js';
import { nodePortAddresses, nodePortIPs } from '../node-port-addresses.js';
import type { NftFamily } from './table.js';

export interface NftablesProxierConfig {
  ipFamily: IPFamily;
  nodeName: string;
  /** The node's primary IP: the default NodePort address, and LB source ranges containing it admit the LB IPs. */
  nodeIP: string;
  masqueradeAll: boolean;
  /** e.g. "0x4000" (nft prints marks without zero padding). */
  masqueradeMark: string;
  /** Pod CIDR of the ClusterCIDR local-traffic detector; undefined means no detector. */
  clusterCIDR?: string;
  /** --nodeport-addresses CIDRs; null/undefined means "primary" (the node IP) in this mode. */
  nodePortAddresses?: readonly string[] | null;
  /** Addresses ("ip" or "ip/prefix") on the node's interfaces, in interface order. */
  hostAddresses: readonly string[];
  /** Service CIDRs: traffic to unallocated IPs in them is dropped. */
  serviceCIDRs: readonly string[];
  /** Retry delay after a failed sync. */
  syncPeriodMs: number;
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
