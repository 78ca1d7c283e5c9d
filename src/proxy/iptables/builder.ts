// The iptables rule builder: a pure function from the service-port and endpoint maps plus the
// proxier settings to the iptables-restore text kube-proxy writes in one sync (upstream:
// syncProxyRules in pkg/proxy/iptables/proxier.go). Argument order inside every rule follows
// upstream exactly, because users compare iptables-save output with real clusters.

import { cidrContains, parseCIDR, parseIP } from '../../api/ip.js';
import { categorizeEndpoints } from '../categorize.js';
import type { EndpointInfo } from '../endpoints.js';
import {
  externallyAccessible,
  servicePortNameString,
  usesClusterEndpoints,
  usesLocalEndpoints,
  type NamespacedName,
  type ServicePortInfo,
} from '../service-port.js';
import type { IptablesTable } from './backend.js';
import { endpointChainName, isServiceChainName, serviceChainNames } from './chain-names.js';
import type { ResolvedIptablesConfig } from './config.js';
import { computeProbability } from './probability.js';

export const KUBE_SERVICES = 'KUBE-SERVICES';
export const KUBE_EXTERNAL_SERVICES = 'KUBE-EXTERNAL-SERVICES';
export const KUBE_NODEPORTS = 'KUBE-NODEPORTS';
export const KUBE_POSTROUTING = 'KUBE-POSTROUTING';
export const KUBE_MARK_MASQ = 'KUBE-MARK-MASQ';
export const KUBE_FORWARD = 'KUBE-FORWARD';
export const KUBE_PROXY_FIREWALL = 'KUBE-PROXY-FIREWALL';
export const KUBE_FIREWALL = 'KUBE-FIREWALL';

export const NFACCT_CT_STATE_INVALID = 'ct_state_invalid_dropped_pkts';
export const NFACCT_LOCALHOST_NODEPORTS = 'localhost_nps_accepted_pkts';

/** Above this many endpoints in total, per-endpoint comments are left out (upstream threshold). */
export const LARGE_CLUSTER_ENDPOINTS_THRESHOLD = 1000;

export interface BuildInput {
  services: ReadonlyMap<string, ServicePortInfo>;
  endpoints: ReadonlyMap<string, readonly EndpointInfo[]>;
  /** Partial sync: only these Services get their SVC/SVL/EXT/FW/SEP chains written. Omit for a full sync. */
  changedServices?: ReadonlySet<NamespacedName>;
  /** nat chains that exist now; the unused per-service ones among them are deleted. Omit to skip cleanup. */
  existingNatChains?: Iterable<string>;
  largeClusterMode: boolean;
  /** Rendered text of earlier syncs, reused for unchanged service ports; omit for a one-off build. */
  cache?: RenderCache;
}

export interface BuildOutput {
  /** The iptables-restore input: *filter then *nat. */
  restore: string;
  /** Rule lines written, per table ("-X" lines excluded). */
  rulesWritten: { filter: number; nat: number };
  /** Rule lines kube-proxy believes are installed after this sync, per table. */
  rulesTotal: { filter: number; nat: number };
  /** Per-service nat chains this sync declared (all of them on a full sync, the changed ones on a partial). */
  writtenNatChains: string[];
  deletedNatChains: string[];
  /** Service ports whose internal / external traffic is dropped for lack of local endpoints. */
  noLocalEndpoints: { internal: number; external: number };
}

type Arg = string | readonly string[];

/** Lines of restore text built from argument lists (upstream: proxyutil.LineBuffer). */
class LineBuffer {
  readonly lines: string[] = [];

  write(...args: Arg[]): void {
    this.lines.push(args.flat().join(' '));
  }

  chain(name: string): void {
    this.lines.push(`:${name} - [0:0]`);
  }
}

const quoted = (text: string): string => `"${text}"`;

export function totalEndpointCount(services: ReadonlyMap<string, ServicePortInfo>, endpoints: BuildInput['endpoints']): number {
  let total = 0;
  for (const key of services.keys()) total += endpoints.get(key)?.length ?? 0;
  return total;
}

export function buildRestore(input: BuildInput, cfg: ResolvedIptablesConfig): BuildOutput {
  const filterChains = new LineBuffer();
  const filterRules = new LineBuffer();
  const natChains = new LineBuffer();
  const natRules = new LineBuffer();
  const staleNatChains = new LineBuffer();
  const noLocalEndpoints = { internal: 0, external: 0 };
  const mark = cfg.masqueradeMark;
  const ipv4 = cfg.ipFamily === 'IPv4';

  for (const chain of [KUBE_SERVICES, KUBE_EXTERNAL_SERVICES, KUBE_FORWARD, KUBE_NODEPORTS, KUBE_PROXY_FIREWALL]) {
    filterChains.chain(chain);
  }
  for (const chain of [KUBE_SERVICES, KUBE_NODEPORTS, KUBE_POSTROUTING, KUBE_MARK_MASQ]) {
    natChains.chain(chain);
  }

  // Static rules.
  natRules.write('-A', KUBE_POSTROUTING, '-m', 'mark', '!', '--mark', `${mark}/${mark}`, '-j', 'RETURN');
  // Clear the mark so a packet that traverses the stack again is not masqueraded twice.
  natRules.write('-A', KUBE_POSTROUTING, '-j', 'MARK', '--xor-mark', mark);
  natRules.write(
    '-A', KUBE_POSTROUTING, '-m', 'comment', '--comment', quoted('kubernetes service traffic requiring SNAT'), '-j', 'MASQUERADE',
    cfg.randomFully ? ['--random-fully'] : [],
  );
  natRules.write('-A', KUBE_MARK_MASQ, '-j', 'MARK', '--or-mark', mark);
  if (ipv4 && cfg.localhostNodePorts) {
    // route_localnet (needed for localhost NodePorts) lets martian 127/8 packets in; block them (#90259).
    filterChains.chain(KUBE_FIREWALL);
    filterRules.write(
      '-A', KUBE_FIREWALL, '-m', 'comment', '--comment', quoted('block incoming localnet connections'),
      '-d', '127.0.0.0/8', '!', '-s', '127.0.0.0/8', '-m', 'conntrack', '!', '--ctstate', 'RELATED,ESTABLISHED,DNAT', '-j', 'DROP',
    );
  }
  if (!cfg.conntrackTCPLiberal) {
    // INVALID packets would otherwise reach the pod un-DNATed and get reset (#74839).
    filterRules.write(
      '-A', KUBE_FORWARD, '-m', 'conntrack', '--ctstate', 'INVALID',
      cfg.nfacct.ctStateInvalidDropped ? ['-m', 'nfacct', '--nfacct-name', NFACCT_CT_STATE_INVALID] : [],
      '-j', 'DROP',
    );
  }
  filterRules.write(
    '-A', KUBE_FORWARD, '-m', 'comment', '--comment', quoted('kubernetes forwarding rules'),
    '-m', 'mark', '--mark', `${mark}/${mark}`, '-j', 'ACCEPT',
  );
  filterRules.write(
    '-A', KUBE_FORWARD, '-m', 'comment', '--comment', quoted('kubernetes forwarding conntrack rule'),
    '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ACCEPT',
  );

  // Per service port, in key order: its dispatch rules always, its own chains unless unchanged.
  const cache = input.cache ?? new RenderCache();
  const filterParts: string[] = [];
  const natChainParts: string[] = [];
  const natRuleParts: string[] = [];
  const writtenNatChains: string[] = [];
  let filterRuleCount = filterRules.lines.length;
  let natRuleCount = natRules.lines.length;
  let skippedRuleCount = 0;
  for (const key of cache.sortedKeys(input.services)) {
    const svc = input.services.get(key)!;
    const r = cache.render(key, svc, input.endpoints.get(key) ?? NO_ENDPOINTS, input.largeClusterMode, cfg);
    filterParts.push(r.filterRules);
    filterRuleCount += r.filterRuleCount;
    natRuleParts.push(r.natDispatchRules);
    natRuleCount += r.natDispatchRuleCount;
    noLocalEndpoints.internal += r.noLocalEndpoints.internal;
    noLocalEndpoints.external += r.noLocalEndpoints.external;
    if (input.changedServices !== undefined && !input.changedServices.has(svc.name.namespacedName)) {
      skippedRuleCount += r.chainRuleCount;
      continue;
    }
    natChainParts.push(r.chainDeclarations);
    natRuleParts.push(r.chainRules);
    natRuleCount += r.chainRuleCount;
    writtenNatChains.push(...r.chains);
  }
  const tail = new LineBuffer();

  // NodePort dispatch: must stay the last rule of nat KUBE-SERVICES.
  const lastRuleComment = quoted('kubernetes service nodeports; NOTE: this must be the last rule in this chain');
  if (cfg.nodePortIPs === undefined) {
    const exclude = ipv4 ? (cfg.localhostNodePorts ? [] : ['!', '-d', '127.0.0.0/8']) : ['!', '-d', '::1/128'];
    tail.write('-A', KUBE_SERVICES, '-m', 'comment', '--comment', lastRuleComment, '-m', 'addrtype', '--dst-type', 'LOCAL', exclude, '-j', KUBE_NODEPORTS);
  } else {
    for (const ip of cfg.nodePortIPs) {
      tail.write('-A', KUBE_SERVICES, '-m', 'comment', '--comment', lastRuleComment, '-d', ip, '-j', KUBE_NODEPORTS);
    }
  }
  natRuleCount += tail.lines.length;

  // Stale per-service chains: declare (which flushes) and delete.
  const deletedNatChains: string[] = [];
  if (input.existingNatChains !== undefined) {
    const active = cache.activeChains(input.services);
    for (const chain of input.existingNatChains) {
      if (active.has(chain) || !isServiceChainName(chain)) continue;
      staleNatChains.chain(chain);
      deletedNatChains.push(chain);
    }
  }
  for (const chain of deletedNatChains) tail.lines.push(`-X ${chain}`);

  const lines = (b: LineBuffer): string => joinLines(b.lines);
  const restore =
    '*filter\n' + lines(filterChains) + lines(filterRules) + filterParts.join('') + 'COMMIT\n' +
    '*nat\n' + lines(natChains) + natChainParts.join('') + lines(staleNatChains) +
    lines(natRules) + natRuleParts.join('') + lines(tail) + 'COMMIT\n';
  return {
    restore,
    rulesWritten: { filter: filterRuleCount, nat: natRuleCount },
    rulesTotal: { filter: filterRuleCount, nat: natRuleCount + skippedRuleCount },
    writtenNatChains,
    deletedNatChains,
    noLocalEndpoints,
  };
}

const NO_ENDPOINTS: readonly EndpointInfo[] = Object.freeze([]);

/** One service port's restore text, split by where it goes in the transaction; lines end in "\n". */
interface RenderedServicePort {
  /** filter rules (KUBE-SERVICES, KUBE-EXTERNAL-SERVICES, KUBE-PROXY-FIREWALL, KUBE-NODEPORTS). */
  filterRules: string;
  filterRuleCount: number;
  /** nat KUBE-SERVICES / KUBE-NODEPORTS rules: written on every sync. */
  natDispatchRules: string;
  natDispatchRuleCount: number;
  /** The service's own chains (SVC, SVL, EXT, FW, SEP): written when it changed or on a full sync. */
  chains: string[];
  chainDeclarations: string;
  chainRules: string;
  chainRuleCount: number;
  noLocalEndpoints: { internal: number; external: number };
}

interface CacheEntry {
  svc: ServicePortInfo;
  endpoints: readonly EndpointInfo[];
  largeClusterMode: boolean;
  rendered: RenderedServicePort;
}

/**
 * Rendered service ports kept between syncs. The change trackers hand out the same ServicePortInfo
 * and endpoint-list objects until a Service changes, so object identity tells an entry is still
 * good: a one-endpoint sync at 10,000 Services renders one service port and joins cached strings.
 * Owned by one proxier (the text also depends on its fixed configuration).
 */
export class RenderCache {
  private readonly entries = new Map<string, CacheEntry>();
  private keys: string[] = [];

  /** The service port keys in sorted order; sorted again only when the set of keys changed. */
  sortedKeys(services: ReadonlyMap<string, ServicePortInfo>): readonly string[] {
    let same = services.size === this.keys.length;
    if (same) for (const key of services.keys()) if (!this.entries.has(key)) { same = false; break; }
    if (!same) {
      this.keys = [...services.keys()].sort();
      for (const key of this.entries.keys()) if (!services.has(key)) this.entries.delete(key);
    }
    return this.keys;
  }

  render(key: string, svc: ServicePortInfo, endpoints: readonly EndpointInfo[], largeClusterMode: boolean, cfg: ResolvedIptablesConfig): RenderedServicePort {
    const hit = this.entries.get(key);
    if (hit !== undefined && hit.svc === svc && hit.endpoints === endpoints && hit.largeClusterMode === largeClusterMode) return hit.rendered;
    const rendered = renderServicePort(cfg, svc, endpoints, largeClusterMode);
    this.entries.set(key, { svc, endpoints, largeClusterMode, rendered });
    return rendered;
  }

  /** Every per-service chain in use (only needed when looking for stale chains). */
  activeChains(services: ReadonlyMap<string, ServicePortInfo>): Set<string> {
    const active = new Set<string>();
    for (const key of services.keys()) for (const chain of this.entries.get(key)?.rendered.chains ?? []) active.add(chain);
    return active;
  }
}

const joinLines = (lines: readonly string[]): string => (lines.length === 0 ? '' : lines.join('\n') + '\n');

function renderServicePort(cfg: ResolvedIptablesConfig, svc: ServicePortInfo, endpoints: readonly EndpointInfo[], largeClusterMode: boolean): RenderedServicePort {
  const out: ServicePortOutput = {
    filterRules: new LineBuffer(),
    natRules: new LineBuffer(),
    chainDeclarations: new LineBuffer(),
    chainRules: new LineBuffer(),
    chains: [],
    noLocalEndpoints: { internal: 0, external: 0 },
  };
  writeServicePort(out, cfg, svc, endpoints, largeClusterMode);
  return {
    filterRules: joinLines(out.filterRules.lines),
    filterRuleCount: out.filterRules.lines.length,
    natDispatchRules: joinLines(out.natRules.lines),
    natDispatchRuleCount: out.natRules.lines.length,
    chains: out.chains,
    chainDeclarations: joinLines(out.chainDeclarations.lines),
    chainRules: joinLines(out.chainRules.lines),
    chainRuleCount: out.chainRules.lines.length,
    noLocalEndpoints: out.noLocalEndpoints,
  };
}

/** Where one service port's rules go while it is rendered. */
interface ServicePortOutput {
  filterRules: LineBuffer;
  /** Rules in the shared nat dispatch chains. */
  natRules: LineBuffer;
  chainDeclarations: LineBuffer;
  chainRules: LineBuffer;
  chains: string[];
  noLocalEndpoints: { internal: number; external: number };
}

/** The rules of one service port, in upstream's emission order (research note §1.3 steps 1-11). */
function writeServicePort(
  out: ServicePortOutput,
  cfg: ResolvedIptablesConfig,
  svc: ServicePortInfo,
  endpoints: readonly EndpointInfo[],
  largeClusterMode: boolean,
): void {
  const { filterRules, natRules, noLocalEndpoints } = out;
  const ipv4 = cfg.ipFamily === 'IPv4';
  const serviceComment = (text: string): string[] => (largeClusterMode ? [] : ['-m', 'comment', '--comment', text]);
  const protocol = svc.protocol.toLowerCase();
  const spn = servicePortNameString(svc.name);
  const names = serviceChainNames(spn, svc.protocol);
  const epChain = (ep: EndpointInfo): string => endpointChainName(spn, svc.protocol, ep.endpoint);
  const { clusterEndpoints, localEndpoints, allReachable, hasAnyEndpoints } = categorizeEndpoints(
    endpoints,
    svc,
  );

  const usesClusterPolicyChain = clusterEndpoints.length > 0 && usesClusterEndpoints(svc);
  const usesLocalPolicyChain = localEndpoints.length > 0 && usesLocalEndpoints(svc);
  const internalChain = svc.internalPolicyLocal ? names.localPolicy : names.clusterPolicy;
  const hasInternalEndpoints = hasAnyEndpoints && (!svc.internalPolicyLocal || localEndpoints.length > 0);
  const externalPolicyChain = svc.externalPolicyLocal ? names.localPolicy : names.clusterPolicy;
  const hasExternalEndpoints = hasAnyEndpoints && (!svc.externalPolicyLocal || localEndpoints.length > 0);
  const usesExternalChain = hasAnyEndpoints && externallyAccessible(svc);
  const usesFirewallChain = hasAnyEndpoints && svc.loadBalancerVIPs.length > 0 && svc.loadBalancerSourceRanges.length > 0;
  const loadBalancerChain = usesFirewallChain ? names.firewall : names.external;

  let internalFilter: { target: string; comment: string } | undefined;
  let externalFilter: { target: string; comment: string } | undefined;
  if (!hasAnyEndpoints) {
    internalFilter = externalFilter = { target: 'REJECT', comment: quoted(`${spn} has no endpoints`) };
  } else {
    if (!hasInternalEndpoints) {
      internalFilter = { target: 'DROP', comment: quoted(`${spn} has no local endpoints`) };
      noLocalEndpoints.internal++;
    }
    if (!hasExternalEndpoints) {
      externalFilter = { target: 'DROP', comment: quoted(`${spn} has no local endpoints`) };
      noLocalEndpoints.external++;
    }
  }
  const dport = String(svc.port);
  const protoMatch = ['-m', protocol, '-p', protocol];

  // 1. The cluster IP.
  if (hasInternalEndpoints) {
    natRules.write('-A', KUBE_SERVICES, '-m', 'comment', '--comment', quoted(`${spn} cluster IP`), protoMatch, '-d', svc.clusterIP, '--dport', dport, '-j', internalChain);
  } else if (internalFilter !== undefined) {
    filterRules.write('-A', KUBE_SERVICES, '-m', 'comment', '--comment', internalFilter.comment, protoMatch, '-d', svc.clusterIP, '--dport', dport, '-j', internalFilter.target);
  }

  // 2. External IPs.
  for (const ip of svc.externalIPs) {
    if (hasAnyEndpoints) {
      natRules.write('-A', KUBE_SERVICES, '-m', 'comment', '--comment', quoted(`${spn} external IP`), protoMatch, '-d', ip, '--dport', dport, '-j', names.external);
    }
    if (externalFilter !== undefined) {
      filterRules.write('-A', KUBE_EXTERNAL_SERVICES, '-m', 'comment', '--comment', externalFilter.comment, protoMatch, '-d', ip, '--dport', dport, '-j', externalFilter.target);
    }
  }

  // 3. Load-balancer IPs.
  for (const ip of svc.loadBalancerVIPs) {
    if (hasAnyEndpoints) {
      natRules.write('-A', KUBE_SERVICES, '-m', 'comment', '--comment', quoted(`${spn} loadbalancer IP`), protoMatch, '-d', ip, '--dport', dport, '-j', loadBalancerChain);
    }
    if (usesFirewallChain) {
      filterRules.write('-A', KUBE_PROXY_FIREWALL, '-m', 'comment', '--comment', quoted(`${spn} traffic not accepted by ${names.firewall}`), protoMatch, '-d', ip, '--dport', dport, '-j', 'DROP');
    }
  }
  if (externalFilter !== undefined) {
    for (const ip of svc.loadBalancerVIPs) {
      filterRules.write('-A', KUBE_EXTERNAL_SERVICES, '-m', 'comment', '--comment', externalFilter.comment, protoMatch, '-d', ip, '--dport', dport, '-j', externalFilter.target);
    }
  }

  // 4. The NodePort; not subject to loadBalancerSourceRanges.
  if (svc.nodePort !== 0) {
    const nodePort = String(svc.nodePort);
    if (hasAnyEndpoints) {
      if (cfg.localhostNodePorts && ipv4 && cfg.nfacct.localhostNodePortsAccepted) {
        natRules.write('-A', KUBE_NODEPORTS, '-m', 'comment', '--comment', spn, protoMatch, '-d', '127.0.0.0/8', '--dport', nodePort, '-m', 'nfacct', '--nfacct-name', NFACCT_LOCALHOST_NODEPORTS, '-j', names.external);
      }
      natRules.write('-A', KUBE_NODEPORTS, '-m', 'comment', '--comment', spn, protoMatch, '--dport', nodePort, '-j', names.external);
    }
    if (externalFilter !== undefined) {
      filterRules.write('-A', KUBE_EXTERNAL_SERVICES, '-m', 'comment', '--comment', externalFilter.comment, '-m', 'addrtype', '--dst-type', 'LOCAL', protoMatch, '--dport', nodePort, '-j', externalFilter.target);
    }
  }

  // 5. The health-check NodePort is always open, endpoints or not.
  if (svc.healthCheckNodePort !== 0) {
    filterRules.write('-A', KUBE_NODEPORTS, '-m', 'comment', '--comment', quoted(`${spn} health check node port`), '-m', 'tcp', '-p', 'tcp', '--dport', String(svc.healthCheckNodePort), '-j', 'ACCEPT');
  }

  // 6. From here on: the service's own chains, left out of a partial sync when nothing changed.
  const rules = out.chainRules;
  const declare = (chain: string): void => {
    out.chainDeclarations.chain(chain);
    out.chains.push(chain);
  };

  // 7. Masquerade off-cluster traffic to the cluster IP: it may be routed to us from outside.
  if (hasInternalEndpoints) {
    const match = ['-m', 'comment', '--comment', quoted(`${spn} cluster IP`), protoMatch, '-d', svc.clusterIP, '--dport', dport].flat();
    if (cfg.masqueradeAll) rules.write('-A', internalChain, match, '-j', KUBE_MARK_MASQ);
    else if (cfg.localDetector !== undefined) rules.write('-A', internalChain, match, cfg.localDetector.ifNotLocal, '-j', KUBE_MARK_MASQ);
  }

  // 8. External traffic.
  if (usesExternalChain) {
    declare(names.external);
    if (!svc.externalPolicyLocal) {
      rules.write('-A', names.external, '-m', 'comment', '--comment', quoted(`masquerade traffic for ${spn} external destinations`), '-j', KUBE_MARK_MASQ);
    } else {
      if (cfg.localDetector !== undefined) {
        // Pods reaching an external address behave as if they went out to the LB and back in.
        rules.write('-A', names.external, '-m', 'comment', '--comment', quoted(`pod traffic for ${spn} external destinations`), cfg.localDetector.ifLocal, '-j', names.clusterPolicy);
      }
      // The node's own traffic has the external IP as its source; masquerade it.
      rules.write('-A', names.external, '-m', 'comment', '--comment', quoted(`masquerade LOCAL traffic for ${spn} external destinations`), '-m', 'addrtype', '--src-type', 'LOCAL', '-j', KUBE_MARK_MASQ);
      rules.write('-A', names.external, '-m', 'comment', '--comment', quoted(`route LOCAL traffic for ${spn} external destinations`), '-m', 'addrtype', '--src-type', 'LOCAL', '-j', names.clusterPolicy);
    }
    if (hasExternalEndpoints) rules.write('-A', names.external, '-j', externalPolicyChain);
  }

  // 9. LB source ranges.
  if (usesFirewallChain) {
    declare(names.firewall);
    const head = ['-A', names.firewall, '-m', 'comment', '--comment', quoted(`${spn} loadbalancer IP`)];
    let allowFromNode = false;
    for (const cidr of svc.loadBalancerSourceRanges) {
      rules.write(head, '-s', cidr, '-j', names.external);
      if (cidrTextContains(cidr, cfg.nodeIP)) allowFromNode = true;
    }
    // Node traffic to a VIP bound locally arrives with the VIP as its source.
    if (allowFromNode) for (const ip of svc.loadBalancerVIPs) rules.write(head, '-s', ip, '-j', names.external);
    // Counts only: what reaches here was not DNATed and is dropped by KUBE-PROXY-FIREWALL.
    rules.write('-A', names.firewall, '-m', 'comment', '--comment', quoted(`other traffic to ${spn} will be dropped by KUBE-PROXY-FIREWALL`));
  }

  // 10. Endpoint selection.
  const writeEndpointJumps = (chain: string, endpoints: readonly EndpointInfo[]): void => {
    declare(chain);
    if (svc.sessionAffinityClientIP) {
      for (const ep of endpoints) {
        rules.write('-A', chain, serviceComment(quoted(`${spn} -> ${ep.endpoint}`)), '-m', 'recent', '--name', epChain(ep), '--rcheck', '--seconds', String(svc.stickyMaxAgeSeconds), '--reap', '-j', epChain(ep));
      }
    }
    endpoints.forEach((ep, i) => {
      const statistic = i < endpoints.length - 1 ? ['-m', 'statistic', '--mode', 'random', '--probability', computeProbability(endpoints.length - i)] : [];
      rules.write('-A', chain, serviceComment(quoted(`${spn} -> ${ep.endpoint}`)), statistic, '-j', epChain(ep));
    });
  };
  if (usesClusterPolicyChain) writeEndpointJumps(names.clusterPolicy, clusterEndpoints);
  if (usesLocalPolicyChain) writeEndpointJumps(names.localPolicy, localEndpoints);

  // 11. One chain per endpoint: hairpin masquerade, then DNAT.
  for (const ep of allReachable) {
    const chain = epChain(ep);
    declare(chain);
    const head = ['-A', chain, ...serviceComment(spn)];
    rules.write(head, '-s', ep.ip, '-j', KUBE_MARK_MASQ);
    const affinity = svc.sessionAffinityClientIP ? ['-m', 'recent', '--name', chain, '--set'] : [];
    rules.write(head, affinity, protoMatch, '-j', 'DNAT', '--to-destination', ep.endpoint);
  }
}

function cidrTextContains(cidr: string, ip: string): boolean {
  const c = parseCIDR(cidr);
  const a = parseIP(ip);
  return c !== undefined && a !== undefined && cidrContains(c, a);
}

/** A jump from a built-in chain that a full sync makes sure of (iptables -C, then -I 1). */
export interface BaseChainJump {
  table: IptablesTable;
  from: string;
  to: string;
  args: string[];
}

/**
 * The jumps from built-in chains, in the order upstream ensures them. Each is prepended, so on a
 * fresh host the last one listed for a chain ends up first in it.
 */
export function baseChainJumps(cfg: ResolvedIptablesConfig): BaseChainJump[] {
  const newConn = ['-m', 'conntrack', '--ctstate', 'NEW'];
  const jump = (table: IptablesTable, from: string, to: string, comment: string | undefined, extra: string[] = []): BaseChainJump => ({
    table,
    from,
    to,
    args: [...extra, ...(comment === undefined ? [] : ['-m', 'comment', '--comment', comment]), '-j', to],
  });
  const jumps = [
    jump('filter', 'INPUT', KUBE_EXTERNAL_SERVICES, 'kubernetes externally-visible service portals', newConn),
    jump('filter', 'FORWARD', KUBE_EXTERNAL_SERVICES, 'kubernetes externally-visible service portals', newConn),
    jump('filter', 'INPUT', KUBE_NODEPORTS, 'kubernetes health check service ports'),
    jump('filter', 'FORWARD', KUBE_SERVICES, 'kubernetes service portals', newConn),
    jump('filter', 'OUTPUT', KUBE_SERVICES, 'kubernetes service portals', newConn),
    jump('filter', 'FORWARD', KUBE_FORWARD, 'kubernetes forwarding rules'),
    jump('filter', 'INPUT', KUBE_PROXY_FIREWALL, 'kubernetes load balancer firewall', newConn),
    jump('filter', 'OUTPUT', KUBE_PROXY_FIREWALL, 'kubernetes load balancer firewall', newConn),
    jump('filter', 'FORWARD', KUBE_PROXY_FIREWALL, 'kubernetes load balancer firewall', newConn),
    jump('nat', 'OUTPUT', KUBE_SERVICES, 'kubernetes service portals'),
    jump('nat', 'PREROUTING', KUBE_SERVICES, 'kubernetes service portals'),
    jump('nat', 'POSTROUTING', KUBE_POSTROUTING, 'kubernetes postrouting rules'),
  ];
  if (cfg.ipFamily === 'IPv4' && cfg.localhostNodePorts) {
    jumps.push(jump('filter', 'INPUT', KUBE_FIREWALL, undefined), jump('filter', 'OUTPUT', KUBE_FIREWALL, undefined));
  }
  return jumps;
}

