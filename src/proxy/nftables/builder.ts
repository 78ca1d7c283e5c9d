// The nftables rule builder (upstream: setupNFTables and syncProxyRules in
// pkg/proxy/nftables/proxier.go), pure: from the service-port and endpoint maps, the proxier
// settings and what is known of the table now, it computes the one transaction that brings the
// table to the desired state. Work is proportional to what changed: set/map elements are diffed
// against a cache, chains are rewritten only for changed services, and chains no longer used are
// flushed now and deleted by a later, separate transaction (see staleChainDeletion).

import { categorizeEndpoints } from '../categorize.js';
import type { EndpointInfo } from '../endpoints.js';
import { cidrContains, parseCIDR, parseIP } from '../ip.js';
import { externallyAccessible, servicePortNameString, type NamespacedName, type ServicePortInfo } from '../service-port.js';
import type { ResolvedNftablesConfig } from './config.js';
import { endpointObjectNames, isAffinitySetName, isServiceChainName, serviceObjectNames, type ServicePortRef } from './names.js';
import type { NftOp } from './table.js';

export const TABLE_COMMENT = 'rules for kube-proxy';
export const CLUSTER_IPS = 'cluster-ips';
export const NODEPORT_IPS = 'nodeport-ips';
export const SERVICE_IPS = 'service-ips';
export const SERVICE_NODEPORTS = 'service-nodeports';
export const FIREWALL_IPS = 'firewall-ips';
export const NO_ENDPOINT_SERVICES = 'no-endpoint-services';
export const NO_ENDPOINT_NODEPORTS = 'no-endpoint-nodeports';
export const MARK_FOR_MASQUERADE = 'mark-for-masquerade';
export const REJECT_CHAIN = 'reject-chain';

/** Chains deleted only once they have been stale this long (kernels < 6.2 free map references late). */
export const STALE_CHAIN_DELETE_DELAY_MS = 1000;

/** The sets and maps whose elements kube-proxy tracks per sync. */
export const TRACKED_CONTAINERS = [CLUSTER_IPS, SERVICE_IPS, SERVICE_NODEPORTS, FIREWALL_IPS, NO_ENDPOINT_SERVICES, NO_ENDPOINT_NODEPORTS] as const;

/** Known elements per tracked set/map: key -> value ("" for plain sets). */
export type ElementCache = Map<string, Map<string, string>>;

export interface NftBuildInput {
  services: ReadonlyMap<string, ServicePortInfo>;
  endpoints: ReadonlyMap<string, readonly EndpointInfo[]>;
  /** Partial sync: only these Services get their chains rewritten. Omit for a full sync. */
  changedServices?: ReadonlySet<NamespacedName>;
  /** Chains and sets in the table now (after any stale-chain deletion). */
  existingChains: readonly string[];
  existingSets: readonly string[];
  /** Elements believed present: read from the table on a full sync, the previous cache otherwise. */
  elements: ElementCache;
  /** Stale chain -> when it went stale (ms). */
  staleChains: ReadonlyMap<string, number>;
  now: number;
}

export interface NftBuildOutput {
  transaction: NftOp[];
  elements: ElementCache;
  staleChains: Map<string, number>;
  noLocalEndpoints: { internal: number; external: number };
}

/** The separate transaction deleting chains stale for longer than the delay, and those left over. */
export function staleChainDeletion(staleChains: ReadonlyMap<string, number>, now: number): { transaction: NftOp[]; remaining: Map<string, number> } {
  const transaction: NftOp[] = [];
  const remaining = new Map<string, number>();
  for (const [chain, since] of staleChains) {
    if (now - since > STALE_CHAIN_DELETE_DELAY_MS) transaction.push({ verb: 'delete', object: { kind: 'chain', name: chain } });
    else remaining.set(chain, since);
  }
  return { transaction, remaining };
}

/** Operations of one transaction, plus the bookkeeping of what the sync keeps. */
class TxWriter {
  readonly ops: NftOp[] = [];
  readonly activeChains = new Set<string>();
  readonly activeAffinitySets = new Set<string>();
  private readonly touched = new Map<string, Set<string>>();

  constructor(readonly elements: ElementCache) {
    for (const name of TRACKED_CONTAINERS) {
      if (!elements.has(name)) elements.set(name, new Map());
      this.touched.set(name, new Set());
    }
  }

  add(object: NftOp['object']): void {
    this.ops.push({ verb: 'add', object });
  }

  flush(object: NftOp['object']): void {
    this.ops.push({ verb: 'flush', object });
  }

  rule(chain: string, ...parts: (string | false | undefined)[]): void {
    this.add({ kind: 'rule', chain, rule: parts.filter((p): p is string => typeof p === 'string' && p !== '').join(' ') });
  }

  /** add + flush, so the chain's rules can be written afresh. */
  writeChain(name: string): void {
    this.add({ kind: 'chain', name });
    this.flush({ kind: 'chain', name });
  }

  /** upstream nftElementStorage.ensureElem: add new keys, replace changed values, skip the rest. */
  element(set: string, key: string, value = '', comment?: string): void {
    const known = this.elements.get(set)!;
    this.touched.get(set)!.add(key);
    const old = known.get(key);
    if (old === value) return;
    const object = { kind: 'element' as const, set, key, value: value === '' ? undefined : value, comment };
    if (old !== undefined) this.ops.push({ verb: 'delete', object: { ...object, value: old === '' ? undefined : old } });
    this.add(object);
    known.set(key, value);
  }

  /** Deletes the known elements this sync did not ensure. */
  deleteLeftovers(): void {
    for (const [set, known] of this.elements) {
      const touched = this.touched.get(set)!;
      for (const [key, value] of known) {
        if (touched.has(key)) continue;
        this.ops.push({ verb: 'delete', object: { kind: 'element', set, key, value: value === '' ? undefined : value } });
        known.delete(key);
      }
    }
  }
}

export function buildSync(input: NftBuildInput, cfg: ResolvedNftablesConfig): NftBuildOutput {
  const elements: ElementCache = new Map([...input.elements].map(([k, v]) => [k, new Map(v)]));
  const tx = new TxWriter(elements);
  const fullSync = input.changedServices === undefined;
  if (fullSync) writeStaticObjects(tx, cfg);

  const existing = new Set(input.existingChains);
  const noLocalEndpoints = { internal: 0, external: 0 };
  for (const key of [...input.services.keys()].sort()) {
    const svc = input.services.get(key)!;
    const rewrite = fullSync || input.changedServices!.has(svc.name.namespacedName);
    const counts = writeServicePort(tx, cfg, svc, input.endpoints.get(key) ?? [], {
      rewrite,
      // Endpoint chains depend only on their name; a full sync reuses those already there (a restart).
      reuseEndpointChain: (chain) => fullSync && existing.has(chain),
    });
    noLocalEndpoints.internal += counts.internal;
    noLocalEndpoints.external += counts.external;
  }

  // Chains nobody uses any more: flush now (dropping their references), delete in a later sync.
  const staleChains = new Map(input.staleChains);
  for (const chain of input.existingChains) {
    if (!isServiceChainName(chain)) continue;
    if (tx.activeChains.has(chain)) staleChains.delete(chain);
    else if (!staleChains.has(chain)) {
      tx.flush({ kind: 'chain', name: chain });
      staleChains.set(chain, input.now);
    }
  }
  for (const set of input.existingSets) {
    if (isAffinitySetName(set) && !tx.activeAffinitySets.has(set)) tx.ops.push({ verb: 'delete', object: { kind: 'set', name: set } });
  }
  tx.deleteLeftovers();
  return { transaction: tx.ops, elements, staleChains, noLocalEndpoints };
}

interface BaseChain {
  name: string;
  type: 'filter' | 'nat';
  hook: string;
  priority: number;
}

const BASE_CHAINS: BaseChain[] = [
  { name: 'filter-prerouting-pre-dnat', type: 'filter', hook: 'prerouting', priority: -110 },
  { name: 'filter-output-pre-dnat', type: 'filter', hook: 'output', priority: -110 },
  { name: 'filter-forward', type: 'filter', hook: 'forward', priority: 0 },
  { name: 'filter-input', type: 'filter', hook: 'input', priority: 0 },
  { name: 'filter-output', type: 'filter', hook: 'output', priority: 0 },
  { name: 'nat-prerouting', type: 'nat', hook: 'prerouting', priority: -100 },
  { name: 'nat-output', type: 'nat', hook: 'output', priority: -100 },
  { name: 'nat-postrouting', type: 'nat', hook: 'postrouting', priority: 100 },
];

const REGULAR_CHAINS = ['services', 'mark-for-masquerade', 'masquerading', 'firewall-check', 'cluster-ips-check', 'service-endpoints-check', 'nodeport-endpoints-check'];

/** setupNFTables: the table, its sets and maps, base and helper chains and their fixed rules. */
function writeStaticObjects(tx: TxWriter, cfg: ResolvedNftablesConfig): void {
  const ip = cfg.family;
  const addr = cfg.addrType;
  const mark = cfg.masqueradeMark;
  tx.add({ kind: 'table', props: `comment "${TABLE_COMMENT}" ;` });
  for (const c of BASE_CHAINS) {
    tx.add({ kind: 'chain', name: c.name, props: `type ${c.type} hook ${c.hook} priority ${c.priority} ;` });
    tx.flush({ kind: 'chain', name: c.name });
  }
  for (const name of REGULAR_CHAINS) tx.writeChain(name);
  tx.add({ kind: 'chain', name: REJECT_CHAIN, props: `comment "helper for @${NO_ENDPOINT_SERVICES} / @${NO_ENDPOINT_NODEPORTS}" ;` });
  tx.flush({ kind: 'chain', name: REJECT_CHAIN });

  tx.add({ kind: 'set', name: CLUSTER_IPS, props: `type ${addr} ; comment "Active ClusterIPs" ;` });
  tx.add({ kind: 'set', name: NODEPORT_IPS, props: `type ${addr} ; comment "IPs that accept NodePort traffic" ;` });
  const ipMap = `type ${addr} . inet_proto . inet_service : verdict`;
  const portMap = 'type inet_proto . inet_service : verdict';
  tx.add({ kind: 'map', name: SERVICE_IPS, props: `${ipMap} ; comment "ClusterIP, ExternalIP and LoadBalancer IP traffic" ;` });
  tx.add({ kind: 'map', name: SERVICE_NODEPORTS, props: `${portMap} ; comment "NodePort traffic" ;` });
  tx.add({ kind: 'map', name: FIREWALL_IPS, props: `${ipMap} ; comment "destinations that are subject to LoadBalancerSourceRanges" ;` });
  tx.add({ kind: 'map', name: NO_ENDPOINT_SERVICES, props: `${ipMap} ; comment "vmap to drop or reject packets to services with no endpoints" ;` });
  tx.add({ kind: 'map', name: NO_ENDPOINT_NODEPORTS, props: `${portMap} ; comment "vmap to drop or reject packets to service nodeports with no endpoints" ;` });

  tx.rule('filter-prerouting-pre-dnat', 'ct state new jump firewall-check');
  tx.rule('filter-output-pre-dnat', 'ct state new jump firewall-check');
  tx.rule('filter-forward', 'ct state new jump service-endpoints-check');
  tx.rule('filter-forward', 'ct state new jump cluster-ips-check');
  tx.rule('filter-input', 'ct state new jump nodeport-endpoints-check');
  tx.rule('filter-input', 'ct state new jump service-endpoints-check');
  tx.rule('filter-output', 'ct state new jump service-endpoints-check');
  tx.rule('filter-output', 'ct state new jump cluster-ips-check');
  tx.rule('nat-prerouting', 'jump services');
  tx.rule('nat-output', 'jump services');
  tx.rule('nat-postrouting', 'jump masquerading');
  tx.rule(MARK_FOR_MASQUERADE, `mark set mark or ${mark}`);
  // Clear the mark so a packet that traverses the stack again is not masqueraded twice.
  tx.rule('masquerading', `mark and ${mark} == 0 return`);
  tx.rule('masquerading', `mark set mark xor ${mark}`);
  tx.rule('masquerading', 'masquerade fully-random');
  tx.rule('firewall-check', `${ip} daddr . meta l4proto . th dport vmap @${FIREWALL_IPS}`);
  tx.rule('cluster-ips-check', `${ip} daddr @${CLUSTER_IPS} reject comment "Reject traffic to invalid ports of ClusterIPs"`);
  if (cfg.serviceCIDRs.length > 0) {
    tx.rule('cluster-ips-check', `${ip} daddr { ${cfg.serviceCIDRs.join(', ')} } drop comment "Drop traffic to unallocated ClusterIPs"`);
  }
  tx.rule('service-endpoints-check', `${ip} daddr . meta l4proto . th dport vmap @${NO_ENDPOINT_SERVICES}`);
  tx.rule(REJECT_CHAIN, 'reject');
  tx.rule('services', `${ip} daddr . meta l4proto . th dport vmap @${SERVICE_IPS}`);

  // Which destinations count as "the node" for NodePorts.
  const nodeDest = cfg.nodePortIPs === undefined
    ? `fib daddr type local ${ip} daddr != ${ip === 'ip' ? '127.0.0.0/8' : '::1'}`
    : `${ip} daddr @${NODEPORT_IPS}`;
  tx.rule('nodeport-endpoints-check', `${nodeDest} meta l4proto . th dport vmap @${NO_ENDPOINT_NODEPORTS}`);
  tx.rule('services', `${nodeDest} meta l4proto . th dport vmap @${SERVICE_NODEPORTS}`);
  tx.flush({ kind: 'set', name: NODEPORT_IPS });
  for (const nodeIP of cfg.nodePortIPs ?? []) tx.add({ kind: 'element', set: NODEPORT_IPS, key: nodeIP });
}

function servicePortRef(svc: ServicePortInfo): ServicePortRef {
  const [namespace = '', name = ''] = svc.name.namespacedName.split('/');
  return { namespace, name, portName: svc.name.port, protocol: svc.protocol };
}

function cidrTextContains(cidr: string, ip: string): boolean {
  const c = parseCIDR(cidr);
  const a = parseIP(ip);
  return c !== undefined && a !== undefined && cidrContains(c, a);
}

/** Elements of one service port every sync; its chains only when `rewrite` (upstream order). */
function writeServicePort(
  tx: TxWriter,
  cfg: ResolvedNftablesConfig,
  svc: ServicePortInfo,
  endpoints: readonly EndpointInfo[],
  opts: { rewrite: boolean; reuseEndpointChain: (chain: string) => boolean },
): { internal: number; external: number } {
  const ip = cfg.family;
  const ref = servicePortRef(svc);
  const names = serviceObjectNames(ref);
  const spn = servicePortNameString(svc.name);
  const proto = svc.protocol.toLowerCase();
  const epNames = (ep: EndpointInfo): { chain: string; affinitySet: string } => endpointObjectNames(ref, ep.ip, ep.port);
  const { clusterEndpoints, localEndpoints, allReachable, hasAnyEndpoints } = categorizeEndpoints(endpoints, svc);

  const usesClusterPolicyChain = clusterEndpoints.length > 0;
  const usesLocalPolicyChain = localEndpoints.length > 0;
  const internalChain = svc.internalPolicyLocal ? names.localPolicy : names.clusterPolicy;
  const externalPolicyChain = svc.externalPolicyLocal ? names.localPolicy : names.clusterPolicy;
  const hasInternalEndpoints = hasAnyEndpoints && (!svc.internalPolicyLocal || localEndpoints.length > 0);
  const hasExternalEndpoints = hasAnyEndpoints && (!svc.externalPolicyLocal || localEndpoints.length > 0);
  const usesExternalChain = hasAnyEndpoints && externallyAccessible(svc);
  // Unlike iptables mode, the firewall chain exists even without endpoints.
  const usesFirewallChain = svc.loadBalancerVIPs.length > 0 && svc.loadBalancerSourceRanges.length > 0;

  const counts = { internal: 0, external: 0 };
  let internalVerdict = '';
  let externalVerdict = '';
  if (!hasAnyEndpoints) {
    internalVerdict = externalVerdict = `goto ${REJECT_CHAIN}`;
  } else {
    if (!hasInternalEndpoints) {
      internalVerdict = 'drop';
      counts.internal++;
    }
    if (!hasExternalEndpoints) {
      externalVerdict = 'drop';
      counts.external++;
    }
  }

  for (const chain of [
    usesClusterPolicyChain && names.clusterPolicy,
    usesLocalPolicyChain && names.localPolicy,
    usesExternalChain && names.external,
    usesFirewallChain && names.firewall,
    ...allReachable.map((ep) => epNames(ep).chain),
  ]) {
    if (chain) tx.activeChains.add(chain);
  }
  // Chains first: elements and rules may only point at chains that exist.
  if (opts.rewrite) {
    for (const ep of allReachable) if (!opts.reuseEndpointChain(epNames(ep).chain)) tx.writeChain(epNames(ep).chain);
    if (usesClusterPolicyChain) tx.writeChain(names.clusterPolicy);
    if (usesLocalPolicyChain) tx.writeChain(names.localPolicy);
    if (usesExternalChain) tx.writeChain(names.external);
    if (usesFirewallChain) tx.writeChain(names.firewall);
  }

  // Elements: written (or confirmed) on every sync.
  const ipKey = (addr: string): string => `${addr} . ${proto} . ${svc.port}`;
  tx.element(CLUSTER_IPS, svc.clusterIP);
  if (hasInternalEndpoints) tx.element(SERVICE_IPS, ipKey(svc.clusterIP), `goto ${internalChain}`);
  else tx.element(NO_ENDPOINT_SERVICES, ipKey(svc.clusterIP), internalVerdict, spn);
  for (const externalIP of svc.externalIPs) {
    if (hasAnyEndpoints) tx.element(SERVICE_IPS, ipKey(externalIP), `goto ${names.external}`);
    if (!hasExternalEndpoints) tx.element(NO_ENDPOINT_SERVICES, ipKey(externalIP), externalVerdict, spn);
  }
  for (const lbIP of svc.loadBalancerVIPs) {
    if (hasAnyEndpoints) tx.element(SERVICE_IPS, ipKey(lbIP), `goto ${names.external}`);
    if (usesFirewallChain) tx.element(FIREWALL_IPS, ipKey(lbIP), `goto ${names.firewall}`);
  }
  if (!hasExternalEndpoints) for (const lbIP of svc.loadBalancerVIPs) tx.element(NO_ENDPOINT_SERVICES, ipKey(lbIP), externalVerdict, spn);
  if (svc.nodePort !== 0) {
    const portKey = `${proto} . ${svc.nodePort}`;
    if (hasAnyEndpoints) tx.element(SERVICE_NODEPORTS, portKey, `goto ${names.external}`);
    if (!hasExternalEndpoints) tx.element(NO_ENDPOINT_NODEPORTS, portKey, externalVerdict, spn);
  }
  for (const ep of svc.sessionAffinityClientIP ? allReachable : []) tx.activeAffinitySets.add(epNames(ep).affinitySet);

  if (!opts.rewrite) return counts;

  // Masquerade off-cluster traffic to the cluster IP: it may have been routed here from outside.
  if (hasInternalEndpoints) {
    if (cfg.masqueradeAll) tx.rule(internalChain, `${ip} daddr ${svc.clusterIP} jump ${MARK_FOR_MASQUERADE}`);
    else if (cfg.clusterCIDR !== undefined) tx.rule(internalChain, `${ip} daddr ${svc.clusterIP} ${ip} saddr != ${cfg.clusterCIDR} jump ${MARK_FOR_MASQUERADE}`);
  }

  if (usesExternalChain) {
    if (!svc.externalPolicyLocal) {
      tx.rule(names.external, `jump ${MARK_FOR_MASQUERADE}`);
    } else {
      // Pods (and the node itself) reaching an external address are not subject to the policy,
      // as if they had gone out to the load balancer and back in.
      if (cfg.clusterCIDR !== undefined) tx.rule(names.external, `${ip} saddr ${cfg.clusterCIDR} goto ${names.clusterPolicy} comment "short-circuit pod traffic"`);
      tx.rule(names.external, `fib saddr type local jump ${MARK_FOR_MASQUERADE} comment "masquerade local traffic"`);
      tx.rule(names.external, `fib saddr type local goto ${names.clusterPolicy} comment "short-circuit local traffic"`);
    }
    if (hasExternalEndpoints) tx.rule(names.external, `goto ${externalPolicyChain}`);
  }

  if (usesFirewallChain) {
    const sources = [...svc.loadBalancerSourceRanges];
    // Node traffic to a VIP bound locally arrives with the VIP as its source.
    if (sources.some((cidr) => cidrTextContains(cidr, cfg.nodeIP))) sources.push(...svc.loadBalancerVIPs);
    tx.rule(names.firewall, `${ip} saddr != { ${sources.join(', ')} } drop`);
  }

  const writeEndpointDispatch = (chain: string, eps: readonly EndpointInfo[]): void => {
    if (svc.sessionAffinityClientIP) {
      for (const ep of eps) {
        const { chain: epChain, affinitySet } = epNames(ep);
        tx.add({ kind: 'set', name: affinitySet, props: `type ${cfg.addrType} ; flags dynamic,timeout ; timeout ${svc.stickyMaxAgeSeconds}s ;` });
        tx.rule(chain, `${ip} saddr @${affinitySet} goto ${epChain}`);
      }
    }
    const vmap = eps.map((ep, i) => `${i} : goto ${epNames(ep).chain}`).join(' , ');
    tx.rule(chain, `numgen random mod ${eps.length} vmap { ${vmap} }`);
  };
  if (usesClusterPolicyChain) writeEndpointDispatch(names.clusterPolicy, clusterEndpoints);
  if (usesLocalPolicyChain) writeEndpointDispatch(names.localPolicy, localEndpoints);

  for (const ep of allReachable) {
    const { chain, affinitySet } = epNames(ep);
    if (opts.reuseEndpointChain(chain)) continue;
    tx.rule(chain, `${ip} saddr ${ep.ip} jump ${MARK_FOR_MASQUERADE}`);
    if (svc.sessionAffinityClientIP) tx.rule(chain, `update @${affinitySet} { ${ip} saddr }`);
    tx.rule(chain, `meta l4proto ${proto} dnat to ${ep.endpoint}`);
  }
  return counts;
}
