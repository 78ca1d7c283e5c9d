// Settings of the iptables proxier, as kube-proxy's flags and host probes give them, and the
// resolved form the rule builder works from.

import { isLoopback, parseIP, type IPFamily } from '../../api/ip.js';
import { nodePortAddresses, nodePortIPs } from '../node-port-addresses.js';
import type { ProxierConfig } from '../proxier-config.js';

/**
 * No nodePortAddresses means every local address takes NodePorts; syncPeriodMs also paces the
 * stale-chain cleanup in large clusters.
 */
export interface IptablesProxierConfig extends ProxierConfig {
  localhostNodePorts: boolean;
  /** net.netfilter.nf_conntrack_tcp_be_liberal is set: no INVALID drop rule is needed. */
  conntrackTCPLiberal: boolean;
  /** The iptables binary supports MASQUERADE --random-fully. */
  randomFully: boolean;
  /** Which nfacct counters exist (rules only use a counter that exists). */
  nfacct: { ctStateInvalidDropped: boolean; localhostNodePortsAccepted: boolean };
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
