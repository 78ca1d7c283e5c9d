// Settings of the IPVS proxier and the resolved form the builder works from.

import type { IPFamily } from '../ip.js';
import { formatIP, isLoopback, parseIP } from '../ip.js';
import { nodePortAddresses, nodePortIPs } from '../node-port-addresses.js';
import { DEFAULT_SCHEDULER } from './names.js';

export interface IpvsProxierConfig {
  ipFamily: IPFamily;
  nodeName: string;
  /** The node's primary IP: LB source ranges containing it let the node reach the LB IP. */
  nodeIP: string;
  masqueradeAll: boolean;
  /** As upstream prints it with "%#08x", e.g. "0x00004000". */
  masqueradeMark: string;
  /** Pod CIDR of the ClusterCIDR local-traffic detector; undefined means no detector. */
  clusterCIDR?: string;
  /** --nodeport-addresses CIDRs; null/undefined means every address of the node. */
  nodePortAddresses?: readonly string[] | null;
  /** Addresses ("ip" or "ip/prefix") of the node, in interface order (kube-ipvs0's not included). */
  hostAddresses: readonly string[];
  /** --ipvs-scheduler; rr when empty. */
  scheduler?: string;
  /** MASQUERADE --random-fully (iptables >= 1.6.2). */
  randomFully: boolean;
  /** Retry delay after a failed sync. */
  syncPeriodMs: number;
}

export interface ResolvedIpvsConfig {
  ipFamily: IPFamily;
  nodeIP: string;
  scheduler: string;
  masqueradeAll: boolean;
  masqueradeMark: string;
  /** "! -s <clusterCIDR>", or undefined without a detector. */
  ifNotLocal?: string[];
  /** One NodePort virtual server per address here. */
  nodePortIPs: string[];
  randomFully: boolean;
}

/**
 * Upstream takes every local address but kube-ipvs0's when no --nodeport-addresses are given. Loopback
 * is left out here: IPVS would masquerade a 127/8 source toward a Pod, which needs route_localnet.
 */
function defaultNodePortIPs(family: IPFamily, hostAddresses: readonly string[]): string[] {
  const out: string[] = [];
  for (const text of hostAddresses) {
    const ip = parseIP(text.split('/')[0]!);
    if (ip === undefined || ip.family !== family || isLoopback(ip)) continue;
    const canonical = formatIP(ip);
    if (!out.includes(canonical)) out.push(canonical);
  }
  return out;
}

export function resolveConfig(config: IpvsProxierConfig): ResolvedIpvsConfig {
  const npa = nodePortAddresses(config.ipFamily, config.nodePortAddresses);
  return {
    ipFamily: config.ipFamily,
    nodeIP: config.nodeIP,
    scheduler: config.scheduler || DEFAULT_SCHEDULER,
    masqueradeAll: config.masqueradeAll,
    masqueradeMark: config.masqueradeMark,
    ifNotLocal: config.clusterCIDR === undefined ? undefined : ['!', '-s', config.clusterCIDR],
    nodePortIPs: npa.matchAll ? defaultNodePortIPs(config.ipFamily, config.hostAddresses) : nodePortIPs(npa, config.hostAddresses),
    randomFully: config.randomFully,
  };
}
