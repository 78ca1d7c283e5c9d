// The settings every proxier mode takes from kube-proxy's flags and the node. Each mode's config.ts
// extends them with its own and resolves them into the form its rule builder works from.

import type { IPFamily } from '../api/ip.js';

export interface ProxierConfig {
  ipFamily: IPFamily;
  nodeName: string;
  /** The node's primary IP: LB source ranges containing it also admit the node's traffic to the LB IPs. */
  nodeIP: string;
  masqueradeAll: boolean;
  /** The masquerade mark as rules write it, e.g. "0x00004000" (iptables/config.ts masqueradeMarkForBit). */
  masqueradeMark: string;
  /** Pod CIDR of the ClusterCIDR local-traffic detector; undefined means no detector. */
  clusterCIDR?: string;
  /** --nodeport-addresses CIDRs; what null/undefined means differs by mode. */
  nodePortAddresses?: readonly string[] | null;
  /** Addresses ("ip" or "ip/prefix") on the node's interfaces, in interface order. */
  hostAddresses: readonly string[];
  /** Retry delay after a failed sync. */
  syncPeriodMs: number;
}
