// The nftables rule builder (upstream: setupNFTables and syncProxyRules in
// pkg/proxy/nftables/proxier.go), pure: from the service-port and endpoint maps, the proxier
// settings and what is known of the table now, it computes the one transaction that brings the
// table to the desired state. Each service port is rendered once into its chains, rules and
// elements and kept in a RenderCache until its inputs change; a partial sync looks only at the
// service ports that changed (elements diffed against the known ones, chains rewritten), so its
// work is proportional to the change. Chains no longer used are flushed now and deleted by a
// later, separate transaction (see staleChainDeletion).

import { cidrContains, parseCIDR, parseIP } from '../../api/ip.js';
import { categorizeEndpoints } from '../categorize.js';
import type { EndpointInfo } from '../endpoints.js';
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
  /** Full sync only: chains and sets in the table now (after any stale-chain deletion). */
  existingChains?: readonly string[];
  existingSets?: readonly string[];
  /**
   * Elements believed present: read from the table on a full sync, the previous sync's otherwise.
   * Updated in place to what this transaction leaves (the caller re-reads them after a failure).
   */
  elements: ElementCache;
  /** Renders of earlier syncs; required for a partial sync, which relies on what it recorded. */
  cache: RenderCache;
  /** Stale chain -> when it went stale (ms). */
  staleChains: ReadonlyMap<string, number>;
  now: number;
}

export interface NftBuildOutput {
  transaction: NftOp[];
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

/** One element a service port wants in a tracked set or map. */
interface Element {
  set: string;
  key: string;
  /** "" for plain sets. */
  value: string;
  comment?: string;
}

const elementId = (e: { set: string; key: string }): string => `${e.set} ${e.key}`;

/** Operations of one transaction, written against the known elements. */
class TxWriter {
  readonly ops: NftOp[] = [];

  constructor(readonly elements: ElementCache) {
    for (const name of TRACKED_CONTAINERS) if (!elements.has(name)) elements.set(name, new Map());
  }

  add(object: NftOp['object']): void {
    this.ops.push({ verb: 'add', object });
  }

  flush(object: NftOp['object']): void {
    this.ops.push({ verb: 'flush', object });
  }

  rule(chain: string, rule: string): void {
    this.add({ kind: 'rule', chain, rule });
  }

  /** add + flush, so the chain's rules can be written afresh. */
  writeChain(name: string): void {
    this.add({ kind: 'chain', name });
    this.flush({ kind: 'chain', name });
  }

  /** upstream nftElementStorage.ensureElem: add new keys, replace changed values, skip the rest. */
  element(e: Element): void {
    const known = this.elements.get(e.set)!;
    const old = known.get(e.key);
    if (old === e.value) return;
    const object = { kind: 'element' as const, set: e.set, key: e.key, value: e.value === '' ? undefined : e.value, comment: e.comment };
    if (old !== undefined) this.ops.push({ verb: 'delete', object: { ...object, value: old === '' ? undefined : old } });
    this.add(object);
    known.set(e.key, e.value);
  }

  /** Deletes a known element. */
  deleteElement(set: string, key: string): void {
    const known = this.elements.get(set)!;
    const value = known.get(key);
    if (value === undefined) return;
    this.ops.push({ verb: 'delete', object: { kind: 'element', set, key, value: value === '' ? undefined : value } });
    known.delete(key);
  }
}

/** A chain of one service port with the rules it gets when written. */
interface RenderedChain {
  name: string;
  rules: string[];
}

/** One service port's part of the table, independent of what the table holds now. */
interface RenderedServicePort {
  /** Endpoint chains (one per reachable endpoint), then the policy / external / firewall chains. */
  endpointChains: RenderedChain[];
  serviceChains: RenderedChain[];
  /** Affinity sets, one add per (dispatch chain, endpoint) as upstream writes them. */
  affinitySetAdds: { name: string; props: string }[];
  elements: Element[];
  noLocalEndpoints: { internal: number; external: number };
}

interface CacheEntry {
  svc: ServicePortInfo;
  endpoints: readonly EndpointInfo[];
  rendered: RenderedServicePort;
}

const chainsOf = (r: RenderedServicePort): string[] => [...r.endpointChains, ...r.serviceChains].map((c) => c.name);
const affinitySetsOf = (r: RenderedServicePort): Set<string> => new Set(r.affinitySetAdds.map((a) => a.name));

/**
 * Renders kept between syncs, keyed by service port, valid while the change trackers hand out the
 * same ServicePortInfo and endpoint-list objects. Also the record of what the table holds for each
 * service port after the last successful sync, which a partial sync diffs against. Owned by one
 * proxier (the renders depend on its fixed configuration).
 */
export class RenderCache {
  /** What the last successful sync installed, per service port key. */
  private installed = new Map<string, CacheEntry>();
  /** How many installed service ports want each element (set + key): a shared key stays until the last lets go. */
  private claims = new Map<string, number>();

  get(key: string): CacheEntry | undefined {
    return this.installed.get(key);
  }

  keys(): IterableIterator<string> {
    return this.installed.keys();
  }

  /** Replaces the record after a successful sync. */
  commit(entries: Map<string, CacheEntry>, full: boolean): void {
    if (full) {
      this.installed = entries;
      this.claims = new Map();
      for (const entry of entries.values()) for (const e of entry.rendered.elements) this.claim(elementId(e), 1);
      return;
    }
    for (const [key, entry] of entries) {
      const old = this.installed.get(key);
      for (const e of old?.rendered.elements ?? []) this.claim(elementId(e), -1);
      if (entry.rendered === DELETED) this.installed.delete(key);
      else {
        for (const e of entry.rendered.elements) this.claim(elementId(e), 1);
        this.installed.set(key, entry);
      }
    }
  }

  /** How many installed service ports want the element. */
  claimsOf(id: string): number {
    return this.claims.get(id) ?? 0;
  }

  private claim(id: string, delta: number): void {
    const n = (this.claims.get(id) ?? 0) + delta;
    if (n <= 0) this.claims.delete(id);
    else this.claims.set(id, n);
  }
}

/** The render of a service port that no longer exists. */
const DELETED: RenderedServicePort = { endpointChains: [], serviceChains: [], affinitySetAdds: [], elements: [], noLocalEndpoints: { internal: 0, external: 0 } };

/** The result of a build, committed to the cache by the caller once the transaction succeeded. */
export interface NftBuild extends NftBuildOutput {
  commit(): void;
}

export function buildSync(input: NftBuildInput, cfg: ResolvedNftablesConfig): NftBuild {
  return input.changedServices === undefined ? buildFullSync(input, cfg) : buildPartialSync(input, cfg, input.changedServices);
}

const NO_ENDPOINTS: readonly EndpointInfo[] = Object.freeze([]);

function renderFor(cache: RenderCache, key: string, svc: ServicePortInfo, endpoints: readonly EndpointInfo[], cfg: ResolvedNftablesConfig): CacheEntry {
  const hit = cache.get(key);
  if (hit !== undefined && hit.svc === svc && hit.endpoints === endpoints) return hit;
  return { svc, endpoints, rendered: renderServicePort(cfg, svc, endpoints) };
}

/** Chains first (elements and rules may only point at chains that exist), then sets, elements, rules. */
function writeRendered(tx: TxWriter, r: RenderedServicePort, rewrite: boolean, reuseEndpointChain: (chain: string) => boolean): void {
  if (rewrite) {
    for (const c of r.endpointChains) if (!reuseEndpointChain(c.name)) tx.writeChain(c.name);
    for (const c of r.serviceChains) tx.writeChain(c.name);
  }
  for (const e of r.elements) tx.element(e);
  if (!rewrite) return;
  for (const a of r.affinitySetAdds) tx.add({ kind: 'set', name: a.name, props: a.props });
  for (const c of r.serviceChains) for (const rule of c.rules) tx.rule(c.name, rule);
  for (const c of r.endpointChains) {
    if (reuseEndpointChain(c.name)) continue;
    for (const rule of c.rules) tx.rule(c.name, rule);
  }
}

/** Every object rewritten; stale chains and elements found by comparing with the table as read. */
function buildFullSync(input: NftBuildInput, cfg: ResolvedNftablesConfig): NftBuild {
  const tx = new TxWriter(input.elements);
  writeStaticObjects(tx, cfg);
  const existing = new Set(input.existingChains ?? []);
  const entries = new Map<string, CacheEntry>();
  const activeChains = new Set<string>();
  const activeAffinitySets = new Set<string>();
  const wanted = new Map<string, Set<string>>(TRACKED_CONTAINERS.map((name) => [name, new Set<string>()]));
  const noLocalEndpoints = { internal: 0, external: 0 };
  for (const key of [...input.services.keys()].sort()) {
    const entry = renderFor(input.cache, key, input.services.get(key)!, input.endpoints.get(key) ?? NO_ENDPOINTS, cfg);
    entries.set(key, entry);
    const r = entry.rendered;
    // Endpoint chains depend only on their name; a full sync reuses those already there (a restart).
    writeRendered(tx, r, true, (chain) => existing.has(chain));
    for (const chain of chainsOf(r)) activeChains.add(chain);
    for (const set of affinitySetsOf(r)) activeAffinitySets.add(set);
    for (const e of r.elements) wanted.get(e.set)!.add(e.key);
    noLocalEndpoints.internal += r.noLocalEndpoints.internal;
    noLocalEndpoints.external += r.noLocalEndpoints.external;
  }

  // Chains nobody uses any more: flush now (dropping their references), delete in a later sync.
  const staleChains = new Map(input.staleChains);
  for (const chain of input.existingChains ?? []) {
    if (!isServiceChainName(chain)) continue;
    if (activeChains.has(chain)) staleChains.delete(chain);
    else if (!staleChains.has(chain)) {
      tx.flush({ kind: 'chain', name: chain });
      staleChains.set(chain, input.now);
    }
  }
  for (const set of input.existingSets ?? []) {
    if (isAffinitySetName(set) && !activeAffinitySets.has(set)) tx.ops.push({ verb: 'delete', object: { kind: 'set', name: set } });
  }
  for (const [set, known] of input.elements) {
    const keep = wanted.get(set);
    if (keep === undefined) continue;
    for (const key of [...known.keys()]) if (!keep.has(key)) tx.deleteElement(set, key);
  }
  return { transaction: tx.ops, staleChains, noLocalEndpoints, commit: () => input.cache.commit(entries, true) };
}

/** Only the service ports whose inputs changed: their elements diffed, their chains rewritten. */
function buildPartialSync(input: NftBuildInput, cfg: ResolvedNftablesConfig, changedServices: ReadonlySet<NamespacedName>): NftBuild {
  const tx = new TxWriter(input.elements);
  const { cache } = input;
  const changed = new Map<string, CacheEntry>();
  const noLocalEndpoints = { internal: 0, external: 0 };
  for (const [key, svc] of input.services) {
    const endpoints = input.endpoints.get(key) ?? NO_ENDPOINTS;
    const entry = renderFor(cache, key, svc, endpoints, cfg);
    if (entry !== cache.get(key) || changedServices.has(svc.name.namespacedName)) changed.set(key, entry);
    noLocalEndpoints.internal += entry.rendered.noLocalEndpoints.internal;
    noLocalEndpoints.external += entry.rendered.noLocalEndpoints.external;
  }
  for (const key of cache.keys()) {
    if (!input.services.has(key)) changed.set(key, { ...cache.get(key)!, rendered: DELETED });
  }

  const staleChains = new Map(input.staleChains);
  const wantedByChanged = new Set<string>();
  /** Per element: how many of the changed service ports wanted it before this sync. */
  const released = new Map<string, number>();
  for (const key of [...changed.keys()].sort()) {
    const entry = changed.get(key)!;
    const r = entry.rendered;
    const old = cache.get(key)?.rendered;
    writeRendered(tx, r, changedServices.has(entry.svc.name.namespacedName), () => false);
    for (const e of r.elements) wantedByChanged.add(elementId(e));
    const now = new Set(chainsOf(r));
    for (const chain of now) staleChains.delete(chain);
    if (old === undefined) continue;
    for (const e of old.elements) released.set(elementId(e), (released.get(elementId(e)) ?? 0) + 1);
    for (const chain of chainsOf(old)) {
      if (now.has(chain) || staleChains.has(chain)) continue;
      tx.flush({ kind: 'chain', name: chain });
      staleChains.set(chain, input.now);
    }
    const setsNow = affinitySetsOf(r);
    for (const set of affinitySetsOf(old)) if (!setsNow.has(set)) tx.ops.push({ verb: 'delete', object: { kind: 'set', name: set } });
  }
  // An element goes when no service port wants it any more (conflicting Services may share a key).
  for (const [id, count] of released) {
    if (wantedByChanged.has(id) || cache.claimsOf(id) > count) continue;
    const at = id.indexOf(' ');
    tx.deleteElement(id.slice(0, at), id.slice(at + 1));
  }
  return { transaction: tx.ops, staleChains, noLocalEndpoints, commit: () => cache.commit(changed, false) };
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

/** One service port's chains, rules, affinity sets and elements (upstream order within each chain). */
function renderServicePort(cfg: ResolvedNftablesConfig, svc: ServicePortInfo, endpoints: readonly EndpointInfo[]): RenderedServicePort {
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

  const out: RenderedServicePort = { endpointChains: [], serviceChains: [], affinitySetAdds: [], elements: [], noLocalEndpoints: counts };
  const serviceChainRules = new Map<string, string[]>();
  for (const [used, name] of [
    [usesClusterPolicyChain, names.clusterPolicy],
    [usesLocalPolicyChain, names.localPolicy],
    [usesExternalChain, names.external],
    [usesFirewallChain, names.firewall],
  ] as const) {
    if (!used) continue;
    const rules: string[] = [];
    serviceChainRules.set(name, rules);
    out.serviceChains.push({ name, rules });
  }
  const rule = (chain: string, text: string): void => void serviceChainRules.get(chain)?.push(text);
  const element = (set: string, key: string, value = '', comment?: string): void => void out.elements.push({ set, key, value, comment });

  const ipKey = (addr: string): string => `${addr} . ${proto} . ${svc.port}`;
  element(CLUSTER_IPS, svc.clusterIP);
  if (hasInternalEndpoints) element(SERVICE_IPS, ipKey(svc.clusterIP), `goto ${internalChain}`);
  else element(NO_ENDPOINT_SERVICES, ipKey(svc.clusterIP), internalVerdict, spn);
  for (const externalIP of svc.externalIPs) {
    if (hasAnyEndpoints) element(SERVICE_IPS, ipKey(externalIP), `goto ${names.external}`);
    if (!hasExternalEndpoints) element(NO_ENDPOINT_SERVICES, ipKey(externalIP), externalVerdict, spn);
  }
  for (const lbIP of svc.loadBalancerVIPs) {
    if (hasAnyEndpoints) element(SERVICE_IPS, ipKey(lbIP), `goto ${names.external}`);
    if (usesFirewallChain) element(FIREWALL_IPS, ipKey(lbIP), `goto ${names.firewall}`);
  }
  if (!hasExternalEndpoints) for (const lbIP of svc.loadBalancerVIPs) element(NO_ENDPOINT_SERVICES, ipKey(lbIP), externalVerdict, spn);
  if (svc.nodePort !== 0) {
    const portKey = `${proto} . ${svc.nodePort}`;
    if (hasAnyEndpoints) element(SERVICE_NODEPORTS, portKey, `goto ${names.external}`);
    if (!hasExternalEndpoints) element(NO_ENDPOINT_NODEPORTS, portKey, externalVerdict, spn);
  }

  // Masquerade off-cluster traffic to the cluster IP: it may have been routed here from outside.
  if (hasInternalEndpoints) {
    if (cfg.masqueradeAll) rule(internalChain, `${ip} daddr ${svc.clusterIP} jump ${MARK_FOR_MASQUERADE}`);
    else if (cfg.clusterCIDR !== undefined) rule(internalChain, `${ip} daddr ${svc.clusterIP} ${ip} saddr != ${cfg.clusterCIDR} jump ${MARK_FOR_MASQUERADE}`);
  }

  if (usesExternalChain) {
    if (!svc.externalPolicyLocal) {
      rule(names.external, `jump ${MARK_FOR_MASQUERADE}`);
    } else {
      // Pods (and the node itself) reaching an external address are not subject to the policy,
      // as if they had gone out to the load balancer and back in.
      if (cfg.clusterCIDR !== undefined) rule(names.external, `${ip} saddr ${cfg.clusterCIDR} goto ${names.clusterPolicy} comment "short-circuit pod traffic"`);
      rule(names.external, `fib saddr type local jump ${MARK_FOR_MASQUERADE} comment "masquerade local traffic"`);
      rule(names.external, `fib saddr type local goto ${names.clusterPolicy} comment "short-circuit local traffic"`);
    }
    if (hasExternalEndpoints) rule(names.external, `goto ${externalPolicyChain}`);
  }

  if (usesFirewallChain) {
    const sources = [...svc.loadBalancerSourceRanges];
    // Node traffic to a VIP bound locally arrives with the VIP as its source.
    if (sources.some((cidr) => cidrTextContains(cidr, cfg.nodeIP))) sources.push(...svc.loadBalancerVIPs);
    rule(names.firewall, `${ip} saddr != { ${sources.join(', ')} } drop`);
  }

  const writeEndpointDispatch = (chain: string, eps: readonly EndpointInfo[]): void => {
    if (svc.sessionAffinityClientIP) {
      for (const ep of eps) {
        const { chain: epChain, affinitySet } = epNames(ep);
        out.affinitySetAdds.push({ name: affinitySet, props: `type ${cfg.addrType} ; flags dynamic,timeout ; timeout ${svc.stickyMaxAgeSeconds}s ;` });
        rule(chain, `${ip} saddr @${affinitySet} goto ${epChain}`);
      }
    }
    const vmap = eps.map((ep, i) => `${i} : goto ${epNames(ep).chain}`).join(' , ');
    rule(chain, `numgen random mod ${eps.length} vmap { ${vmap} }`);
  };
  if (usesClusterPolicyChain) writeEndpointDispatch(names.clusterPolicy, clusterEndpoints);
  if (usesLocalPolicyChain) writeEndpointDispatch(names.localPolicy, localEndpoints);

  for (const ep of allReachable) {
    const { chain, affinitySet } = epNames(ep);
    const rules = [`${ip} saddr ${ep.ip} jump ${MARK_FOR_MASQUERADE}`];
    if (svc.sessionAffinityClientIP) rules.push(`update @${affinitySet} { ${ip} saddr }`);
    rules.push(`meta l4proto ${proto} dnat to ${ep.endpoint}`);
    out.endpointChains.push({ name: chain, rules });
  }
  return out;
}
