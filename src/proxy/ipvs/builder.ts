// IPVS mode's desired state as a pure function of the service and endpoints maps (upstream:
// Proxier.syncProxyRules and writeIptablesRules in pkg/proxy/ipvs/proxier.go): the addresses bound
// to kube-ipvs0, one virtual server per (VIP, port, protocol) with its real servers, the members of
// every ipset, and the iptables-restore text of the few fixed chains that match those sets.

import { cidrContains, parseCIDR, parseIP } from '../../api/ip.js';
import { quoteArg } from '../iptables/backend.js';
import { categorizeEndpoints } from '../categorize.js';
import type { EndpointInfo } from '../endpoints.js';
import { externallyAccessible, type ServicePortInfo } from '../service-port.js';
import type { ResolvedIpvsConfig } from './config.js';
import { CHAINS, FILTER_CHAINS, IPSETS, NAT_CHAINS, type IpsetInfo, type IpsetKey } from './names.js';
import type { RealServer, VirtualServer } from './state.js';
import { realServerKey, virtualServerKey } from './state.js';

export interface IpvsBuildInput {
  services: ReadonlyMap<string, ServicePortInfo>;
  endpoints: ReadonlyMap<string, readonly EndpointInfo[]>;
}

export interface IpvsDesiredState {
  /** Addresses for kube-ipvs0 (each as /32 or /128), sorted. */
  dummyAddresses: string[];
  /** Sorted by virtualServerKey; real servers sorted by "ip:port". */
  virtualServers: VirtualServer[];
  /** Every kube-proxy ipset by name with its sorted members (empty sets included). */
  ipsets: Map<string, string[]>;
  /** One iptables-restore --noflush transaction (nat, then filter). */
  iptablesRestore: string;
  noLocalEndpoints: { internal: number; external: number };
}

/** A rule "-A <from> [-p proto] -m comment ... -m set --match-set <set> <match> -j <to>" written when the set is not empty. */
interface SetRule {
  set: IpsetKey;
  table: 'nat' | 'filter';
  from: string;
  to: string;
  match: string;
  protocol?: string;
}

/** upstream ipsetWithIptablesChain; each -LOCAL set comes before its non-local counterpart. */
const SET_RULES: readonly SetRule[] = [
  { set: 'loopBack', table: 'nat', from: CHAINS.postrouting, to: 'MASQUERADE', match: 'dst,dst,src' },
  { set: 'loadBalancer', table: 'nat', from: CHAINS.services, to: CHAINS.loadBalancer, match: 'dst,dst' },
  { set: 'loadBalancerLocal', table: 'nat', from: CHAINS.loadBalancer, to: 'RETURN', match: 'dst,dst' },
  { set: 'nodePortLocalTCP', table: 'nat', from: CHAINS.nodePort, to: 'RETURN', match: 'dst', protocol: 'tcp' },
  { set: 'nodePortTCP', table: 'nat', from: CHAINS.nodePort, to: CHAINS.markMasq, match: 'dst', protocol: 'tcp' },
  { set: 'nodePortLocalUDP', table: 'nat', from: CHAINS.nodePort, to: 'RETURN', match: 'dst', protocol: 'udp' },
  { set: 'nodePortUDP', table: 'nat', from: CHAINS.nodePort, to: CHAINS.markMasq, match: 'dst', protocol: 'udp' },
  { set: 'nodePortLocalSCTP', table: 'nat', from: CHAINS.nodePort, to: 'RETURN', match: 'dst,dst', protocol: 'sctp' },
  { set: 'nodePortSCTP', table: 'nat', from: CHAINS.nodePort, to: CHAINS.markMasq, match: 'dst,dst', protocol: 'sctp' },
  { set: 'loadBalancerFW', table: 'filter', from: CHAINS.proxyFirewall, to: CHAINS.sourceRangesFirewall, match: 'dst,dst' },
  { set: 'loadBalancerSourceCIDR', table: 'filter', from: CHAINS.sourceRangesFirewall, to: 'RETURN', match: 'dst,dst,src' },
  { set: 'loadBalancerSourceIP', table: 'filter', from: CHAINS.sourceRangesFirewall, to: 'RETURN', match: 'dst,dst,src' },
];

/** An LB IP whose source ranges leave the node out: the node itself may not reach it (#119656). */
interface NoNodeAccess {
  ip: string;
  port: number;
  protocol: string;
}

/** Collects the state of one sync while the service ports are walked. */
class DesiredState {
  readonly members = new Map<IpsetKey, Set<string>>(Object.keys(IPSETS).map((k) => [k as IpsetKey, new Set<string>()]));
  readonly bound = new Set<string>();
  readonly servers = new Map<string, VirtualServer>();
  readonly noNodeAccess: NoNodeAccess[] = [];

  add(set: IpsetKey, member: string): void {
    this.members.get(set)!.add(member);
  }

  has(set: IpsetKey): boolean {
    return this.members.get(set)!.size > 0;
  }

  virtualServer(vs: VirtualServer, bind: boolean): void {
    this.servers.set(virtualServerKey(vs), vs);
    if (bind) this.bound.add(vs.address);
  }
}

function realServers(endpoints: readonly EndpointInfo[]): RealServer[] {
  return endpoints.map((ep) => ({ address: ep.ip, port: ep.port, weight: 1 }));
}

function addServicePort(state: DesiredState, svc: ServicePortInfo, endpoints: readonly EndpointInfo[], cfg: ResolvedIpvsConfig): { internal: boolean; external: boolean } {
  const proto = svc.protocol.toLowerCase();
  const ipPort = (ip: string): string => `${ip},${proto}:${svc.port}`;
  const cat = categorizeEndpoints(endpoints, svc);
  const internal = realServers(svc.internalPolicyLocal ? cat.localEndpoints : cat.clusterEndpoints);
  const external = realServers(svc.externalPolicyLocal ? cat.localEndpoints : cat.clusterEndpoints);
  const vs = (address: string, port: number, servers: RealServer[]): VirtualServer => ({
    address,
    port,
    protocol: svc.protocol,
    scheduler: cfg.scheduler,
    ...(svc.sessionAffinityClientIP ? { persistentTimeoutSeconds: svc.stickyMaxAgeSeconds } : {}),
    realServers: servers,
  });

  // Hairpin: a local endpoint reaching itself through the Service is masqueraded.
  for (const ep of endpoints) if (ep.isLocal) state.add('loopBack', `${ep.ip},${proto}:${ep.port},${ep.ip}`);

  state.add('clusterIP', ipPort(svc.clusterIP));
  state.virtualServer(vs(svc.clusterIP, svc.port, internal), true);

  for (const ip of svc.externalIPs) {
    state.add(svc.externalPolicyLocal ? 'externalIPLocal' : 'externalIP', ipPort(ip));
    state.virtualServer(vs(ip, svc.port, external), true);
  }

  for (const ip of svc.loadBalancerVIPs) {
    state.add('loadBalancer', ipPort(ip));
    if (svc.externalPolicyLocal) state.add('loadBalancerLocal', ipPort(ip));
    if (svc.loadBalancerSourceRanges.length > 0) {
      state.add('loadBalancerFW', ipPort(ip));
      for (const cidr of svc.loadBalancerSourceRanges) state.add('loadBalancerSourceCIDR', `${ipPort(ip)},${cidr}`);
      const nodeIP = parseIP(cfg.nodeIP);
      const coversNode = (text: string): boolean => {
        const cidr = parseCIDR(text);
        return cidr !== undefined && nodeIP !== undefined && cidrContains(cidr, nodeIP);
      };
      if (svc.loadBalancerSourceRanges.some(coversNode)) state.add('loadBalancerSourceIP', `${ipPort(ip)},${ip}`);
      else state.noNodeAccess.push({ ip, port: svc.port, protocol: proto });
    }
    state.virtualServer(vs(ip, svc.port, external), true);
  }

  if (svc.nodePort !== 0 && cfg.nodePortIPs.length > 0) {
    const local = svc.externalPolicyLocal;
    if (svc.protocol === 'SCTP') {
      // SCTP has no bitmap:port set in upstream: one ip,port entry per node address.
      for (const ip of cfg.nodePortIPs) {
        state.add('nodePortSCTP', `${ip},sctp:${svc.nodePort}`);
        if (local) state.add('nodePortLocalSCTP', `${ip},sctp:${svc.nodePort}`);
      }
    } else {
      state.add(svc.protocol === 'UDP' ? 'nodePortUDP' : 'nodePortTCP', String(svc.nodePort));
      if (local) state.add(svc.protocol === 'UDP' ? 'nodePortLocalUDP' : 'nodePortLocalTCP', String(svc.nodePort));
    }
    for (const ip of cfg.nodePortIPs) state.virtualServer(vs(ip, svc.nodePort, external), false);
  }

  if (svc.healthCheckNodePort !== 0) state.add('healthCheckNodePort', String(svc.healthCheckNodePort));

  return {
    internal: svc.internalPolicyLocal && cat.hasAnyEndpoints && cat.localEndpoints.length === 0,
    external: externallyAccessible(svc) && svc.externalPolicyLocal && cat.hasAnyEndpoints && cat.localEndpoints.length === 0,
  };
}

const line = (words: readonly string[]): string => words.map(quoteArg).join(' ');
const comment = (set: IpsetInfo): string[] => ['-m', 'comment', '--comment', set.comment];
const matchSet = (set: IpsetInfo, match: string): string[] => ['-m', 'set', '--match-set', set.name, match];

/** upstream writeIptablesRules: constant rules that only refer to the sets. */
function iptablesRestore(state: DesiredState, cfg: ResolvedIpvsConfig): string {
  const nat: string[][] = [];
  const filter: string[][] = [];
  const mark = `${cfg.masqueradeMark}/${cfg.masqueradeMark}`;
  const S = IPSETS;

  nat.push(['-A', CHAINS.services, '-s', cfg.ipFamily === 'IPv4' ? '127.0.0.0/8' : '::1/128', '-j', 'RETURN']);
  for (const rule of SET_RULES) {
    if (!state.has(rule.set)) continue;
    const words = ['-A', rule.from, ...(rule.protocol ? ['-p', rule.protocol] : []), ...comment(S[rule.set]), ...matchSet(S[rule.set], rule.match), '-j', rule.to];
    (rule.table === 'nat' ? nat : filter).push(words);
  }
  if (state.has('clusterIP')) {
    const base = ['-A', CHAINS.services, ...comment(S.clusterIP), '-m', 'set', '--match-set', S.clusterIP.name];
    if (cfg.masqueradeAll) nat.push([...base, 'dst,dst', '-j', CHAINS.markMasq]);
    else if (cfg.ifNotLocal) nat.push([...base, 'dst,dst', ...cfg.ifNotLocal, '-j', CHAINS.markMasq]);
    // Without a detector: node-originated traffic picks a VIP as its source (all VIPs are local).
    else nat.push([...base, 'src,dst', '-j', CHAINS.markMasq]);
  }
  // Off-machine traffic to an external IP, and traffic to one that happens to be local, is accepted.
  const externalAccepts = (base: string[]): void => {
    nat.push([...base, '-m', 'physdev', '!', '--physdev-is-in', '-m', 'addrtype', '!', '--src-type', 'LOCAL', '-j', 'ACCEPT']);
    nat.push([...base, '-m', 'addrtype', '--dst-type', 'LOCAL', '-j', 'ACCEPT']);
  };
  if (state.has('externalIP')) {
    const base = ['-A', CHAINS.services, ...comment(S.externalIP), ...matchSet(S.externalIP, 'dst,dst')];
    nat.push([...base, '-j', CHAINS.markMasq]);
    externalAccepts(base);
  }
  if (state.has('externalIPLocal')) externalAccepts(['-A', CHAINS.services, ...comment(S.externalIPLocal), ...matchSet(S.externalIPLocal, 'dst,dst')]);
  nat.push(['-A', CHAINS.services, '-m', 'addrtype', '--dst-type', 'LOCAL', '-j', CHAINS.nodePort]);
  nat.push(['-A', CHAINS.loadBalancer, '-j', CHAINS.markMasq]);
  filter.push(['-A', CHAINS.sourceRangesFirewall, '-j', 'DROP']);
  for (const e of state.noNodeAccess) {
    filter.push(['-A', CHAINS.ipvsOutFilter, '-s', e.ip, '-m', 'ipvs', '--vaddr', e.ip, '--vproto', e.protocol, '--vport', String(e.port), '-j', 'DROP']);
  }
  // Accept what IPVS will take, in case later rules would drop it.
  for (const key of ['clusterIP', 'loadBalancer'] as const) {
    if (state.has(key)) nat.push(['-A', CHAINS.services, ...matchSet(S[key], 'dst,dst'), '-j', 'ACCEPT']);
  }
  filter.push(['-A', CHAINS.forward, '-m', 'comment', '--comment', 'kubernetes forwarding rules', '-m', 'mark', '--mark', mark, '-j', 'ACCEPT']);
  filter.push([
    '-A', CHAINS.forward, '-m', 'comment', '--comment', 'kubernetes forwarding conntrack rule',
    '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ACCEPT',
  ]);
  filter.push(['-A', CHAINS.nodePort, ...comment(S.healthCheckNodePort), ...matchSet(S.healthCheckNodePort, 'dst'), '-j', 'ACCEPT']);
  // kube-ipvs0 makes every VIP local on every port (#72236): only the Service ports may open connections.
  for (const [set, match] of [[S.loadBalancer, 'dst,dst'], [S.clusterIP, 'dst,dst'], [S.externalIP, 'dst,dst'], [S.externalIPLocal, 'dst,dst'], [S.healthCheckNodePort, 'dst']] as const) {
    filter.push(['-A', CHAINS.ipvsFilter, ...matchSet(set, match), '-j', 'RETURN']);
  }
  filter.push(['-A', CHAINS.ipvsFilter, '-m', 'conntrack', '--ctstate', 'NEW', ...matchSet(S.ipvsIPs, 'dst'), '-j', 'REJECT']);
  nat.push(['-A', CHAINS.postrouting, '-m', 'mark', '!', '--mark', mark, '-j', 'RETURN']);
  nat.push(['-A', CHAINS.postrouting, '-j', 'MARK', '--xor-mark', cfg.masqueradeMark]);
  nat.push([
    '-A', CHAINS.postrouting, '-m', 'comment', '--comment', 'kubernetes service traffic requiring SNAT', '-j', 'MASQUERADE',
    ...(cfg.randomFully ? ['--random-fully'] : []),
  ]);
  nat.push(['-A', CHAINS.markMasq, '-j', 'MARK', '--or-mark', cfg.masqueradeMark]);

  const table = (name: string, chains: readonly string[], rules: string[][]): string[] => [
    `*${name}`,
    ...chains.map((c) => `:${c} - [0:0]`),
    ...rules.map(line),
    'COMMIT',
  ];
  return [...table('nat', NAT_CHAINS, nat), ...table('filter', FILTER_CHAINS, filter)].join('\n') + '\n';
}

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function buildDesiredState(input: IpvsBuildInput, cfg: ResolvedIpvsConfig): IpvsDesiredState {
  const state = new DesiredState();
  const noLocalEndpoints = { internal: 0, external: 0 };
  for (const key of [...input.services.keys()].sort(byText)) {
    const missing = addServicePort(state, input.services.get(key)!, input.endpoints.get(key) ?? [], cfg);
    if (missing.internal) noLocalEndpoints.internal++;
    if (missing.external) noLocalEndpoints.external++;
  }
  const hostPrefix = cfg.ipFamily === 'IPv4' ? 32 : 128;
  const bound = [...state.bound].sort(byText);
  for (const ip of bound) state.add('ipvsIPs', ip);
  const ipsets = new Map<string, string[]>();
  for (const [key, info] of Object.entries(IPSETS) as [IpsetKey, IpsetInfo][]) {
    ipsets.set(info.name, [...state.members.get(key)!].sort(byText));
  }
  return {
    dummyAddresses: bound.map((ip) => `${ip}/${hostPrefix}`),
    virtualServers: [...state.servers.entries()]
      .sort(([a], [b]) => byText(a, b))
      .map(([, vs]) => ({ ...vs, realServers: [...vs.realServers].sort((a, b) => byText(realServerKey(a), realServerKey(b))) })),
    ipsets,
    iptablesRestore: iptablesRestore(state, cfg),
    noLocalEndpoints,
  };
}
