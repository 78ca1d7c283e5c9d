// Settings of the IPVS proxier and the resolved form the builder works from.

import { formatIP, isLoopback, parseIP, type IPFamily } from '../../api/ip.js';
import { nodePortAddresses, nodePortIPs } from '../node-port-addresses.js';
import type { ProxierConfig } from '../proxier-config.js';
import { DEFAULT_SCHEDULER } from './names.js';

/** No nodePortAddresses means every address of the node; hostAddresses leave out kube-ipvs0's. */
export interface IpvsProxierConfig extends ProxierConfig {
  /** --ipvs-scheduler; rr when empty. */
  scheduler?: string;
  /** MASQUERADE --random-fully (iptables >= 1.6.2). */
  randomFully: boolean;
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
