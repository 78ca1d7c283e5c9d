// Settings of the iptables proxier, as kube-proxy's flags and host probes give them, and the
// resolved form the rule builder works from.

import { isLoopback, parseIP, type IPFamily } from '../ip.js';
import { nodePortAddresses, nodePortIPs } from '../node-port-addresses.js';

export interface IptablesProxierConfig {
  ipFamily: IPFamily;
  nodeName: string;
  /** The node's primary IP: LB source ranges containing it also admit the LB IPs themselves. */
  nodeIP: string;
  masqueradeAll: boolean;
  /** Mark value as written in rules, e.g. "0x4000" (see masqueradeMarkForBit). */
  masqueradeMark: string;
  /** Pod CIDR of the ClusterCIDR local-traffic detector; undefined means no detector. */
  clusterCIDR?: string;
  localhostNodePorts: boolean;
  /** --nodeport-addresses CIDRs; null/undefined means all local addresses. */
  nodePortAddresses?: readonly string[] | null;
  /** Addresses ("ip" or "ip/prefix") on the node's interfaces, in interface order (for nodePortAddresses). */
  hostAddresses: readonly string[];
  /** net.netfilter.nf_conntrack_tcp_be_liberal is set: no INVALID drop rule is needed. */
  conntrackTCPLiberal: boolean;
  /** The iptables binary supports MASQUERADE --random-fully. */
  randomFully: boolean;
  /** Which nfacct counters exist (rules only use a counter that exists). */
  nfacct: { ctStateInvalidDropped: boolean; localhostNodePortsAccepted: boolean };
  /** Period of stale-chain cleanup in large clusters, and retry delay after a failure. */
  syncPeriodMs: number;
}

/** The mark for masqueradeBit as upstream prints it with Go's "%#08x" (bit 14 -> "0x00004000"). */
export function masqueradeMarkForBit(bit: number): string {
  return `0x${(1 << bit).toString(16).padStart(8, '0')}`;
}

/** Matches that tell pod traffic from other traffic (upstream: LocalTrafficDetector). */
export interface LocalTrafficDetector {
  ifLocal: string[];
  ifNotLocal: string[];
}

export interface ResolvedIptablesConfig {
  ipFamily: IPFamily;
  nodeIP: string;
  masqueradeAll: boolean;
  masqueradeMark: string;
  localDetector?: LocalTrafficDetector;
  /** Effective: forced off when nodePortAddresses excludes 127.0.0.1, and never on IPv6. */
  localhostNodePorts: boolean;
  /** undefined: NodePorts on every local address; else the addresses with a per-IP rule. */
  nodePortIPs?: string[];
  conntrackTCPLiberal: boolean;
  randomFully: boolean;
  nfacct: { ctStateInvalidDropped: boolean; localhostNodePortsAccepted: boolean };
}

export function resolveConfig(config: IptablesProxierConfig): ResolvedIptablesConfig {
  const npa = nodePortAddresses(config.ipFamily, config.nodePortAddresses);
  const localhostNodePorts = config.localhostNodePorts && config.ipFamily === 'IPv4' && npa.containsIPv4Loopback;
  let ips: string[] | undefined;
  if (!npa.matchAll) {
    // Loopback addresses only take NodePorts on IPv4 with localhost NodePorts enabled.
    ips = nodePortIPs(npa, config.hostAddresses).filter((ip) => !isLoopback(parseIP(ip)!) || localhostNodePorts);
  }
  return {
    ipFamily: config.ipFamily,
    nodeIP: config.nodeIP,
    masqueradeAll: config.masqueradeAll,
    masqueradeMark: config.masqueradeMark,
    localDetector:
      config.clusterCIDR === undefined
        ? undefined
        : { ifLocal: ['-s', config.clusterCIDR], ifNotLocal: ['!', '-s', config.clusterCIDR] },
    localhostNodePorts,
    nodePortIPs: ips,
    conntrackTCPLiberal: config.conntrackTCPLiberal,
    randomFully: config.randomFully,
    nfacct: config.nfacct,
  };
}
