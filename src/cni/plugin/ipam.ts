// host-local IPAM, built into kemu-cni: ranges, the round-robin allocation order, and ADD/DEL/CHECK
// against the on-disk store. Messages follow the reference plugin's so errors read the same.
//
// Config: ipam.ranges is a list of range sets (one address is allocated from each set); a set is a
// list of alternative ranges {subnet, rangeStart?, rangeEnd?, gateway?}. Defaults: gateway = subnet+1,
// rangeStart = subnet+1, rangeEnd = broadcast-1. The gateway is skipped, so a /24 starts at .2.

import { CniError, ErrorCode } from './result.js';
import type { CniIPConfig, CniResult, CniRoute } from './result.js';
import { broadcastOf, contains, formatIPv4, formatPrefix, networkOf, parseIPv4, parsePrefix } from './ipv4.js';
import type { Prefix } from './ipv4.js';
import { HostLocalStore } from './ipam-store.js';

export const DEFAULT_DATA_DIR = '/var/lib/cni/networks';

export interface Range {
  subnet: Prefix;
  rangeStart: number;
  rangeEnd: number;
  gateway: number;
}

export type RangeSet = Range[];

export interface HostLocalConfig {
  rangeSets: RangeSet[];
  routes: CniRoute[];
  dataDir: string;
}

export interface Attachment {
  network: string;
  containerID: string;
  ifname: string;
}

const fail = (msg: string) => new CniError(ErrorCode.Internal, msg);

export function rangeString(r: Range): string {
  return `${formatIPv4(r.rangeStart)}-${formatIPv4(r.rangeEnd)}`;
}

export function rangeSetString(set: RangeSet): string {
  return set.map(rangeString).join(',');
}

function inRange(r: Range, ip: number): boolean {
  return contains(r.subnet, ip) && ip >= r.rangeStart && ip <= r.rangeEnd;
}

export function rangeFor(set: RangeSet, ip: number): Range | undefined {
  return set.find((r) => inRange(r, ip));
}

export function parseHostLocalConfig(ipam: Record<string, unknown>): HostLocalConfig {
  const rawSets: unknown[] = [];
  // The legacy single-range form (subnet at the top of ipam) comes first.
  if (ipam.subnet !== undefined) rawSets.push([{ subnet: ipam.subnet, rangeStart: ipam.rangeStart, rangeEnd: ipam.rangeEnd, gateway: ipam.gateway }]);
  if (ipam.ranges !== undefined) {
    if (!Array.isArray(ipam.ranges)) throw fail('ranges must be a list of range sets');
    rawSets.push(...ipam.ranges);
  }
  if (rawSets.length === 0) throw fail('no IP ranges specified');
  const rangeSets = rawSets.map((raw, i) => {
    try {
      return parseRangeSet(raw);
    } catch (e) {
      throw fail(`invalid range set ${i}: ${(e as Error).message}`);
    }
  });
  rangeSets.forEach((a, i) =>
    rangeSets.slice(i + 1).forEach((b, d) => {
      if (a.some((ra) => b.some((rb) => overlaps(ra, rb)))) throw fail(`range set ${i} overlaps with ${i + 1 + d}`);
    }),
  );
  const dataDir = ipam.dataDir ?? DEFAULT_DATA_DIR;
  if (typeof dataDir !== 'string' || dataDir === '') throw fail('dataDir must be a path');
  return { rangeSets, routes: parseRoutes(ipam.routes), dataDir };
}

function parseRangeSet(raw: unknown): RangeSet {
  if (!Array.isArray(raw) || raw.length === 0) throw new Error('empty range set');
  const set = raw.map(parseRange);
  set.forEach((a, i) =>
    set.slice(i + 1).forEach((b) => {
      if (overlaps(a, b)) throw new Error(`subnets ${rangeString(a)} and ${rangeString(b)} overlap`);
    }),
  );
  return set;
}

function overlaps(a: Range, b: Range): boolean {
  return a.rangeStart <= b.rangeEnd && b.rangeStart <= a.rangeEnd;
}

function parseRange(raw: unknown): Range {
  if (typeof raw !== 'object' || raw === null) throw new Error('a range must be an object');
  const r = raw as Record<string, unknown>;
  const subnet = typeof r.subnet === 'string' ? parsePrefix(r.subnet) : undefined;
  if (subnet === undefined) {
    if (typeof r.subnet === 'string' && r.subnet.includes(':')) throw new Error(`IPv6 subnet ${r.subnet} is not supported by kemu-cni`);
    throw new Error(`invalid CIDR address: ${String(r.subnet)}`);
  }
  const network = networkOf(subnet);
  if (subnet.length > 30) throw new Error(`Network ${r.subnet} too small to allocate from`);
  if (network !== subnet.ip) {
    throw new Error(`Network has host bits set. For a subnet mask of length ${subnet.length} the network address is ${formatIPv4(network)}`);
  }
  const canonical = { ip: network, length: subnet.length };
  const cidr = formatPrefix(network, subnet.length);
  const address = (key: 'rangeStart' | 'rangeEnd' | 'gateway', fallback: number, label: string): number => {
    const v = r[key];
    if (v === undefined || v === '') return fallback;
    const ip = typeof v === 'string' ? parseIPv4(v) : undefined;
    if (ip === undefined) throw new Error(`invalid ${key} ${JSON.stringify(v)}`);
    if (!contains(canonical, ip)) throw new Error(`${label} ${formatIPv4(ip)} not in network ${cidr}`);
    return ip;
  };
  const rangeStart = address('rangeStart', network + 1, 'RangeStart');
  const rangeEnd = address('rangeEnd', broadcastOf(canonical) - 1, 'RangeEnd');
  const gateway = address('gateway', network + 1, 'gateway');
  if (rangeStart > rangeEnd) throw new Error(`RangeStart ${formatIPv4(rangeStart)} is after RangeEnd ${formatIPv4(rangeEnd)}`);
  return { subnet: canonical, rangeStart, rangeEnd, gateway };
}

function parseRoutes(raw: unknown): CniRoute[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) throw fail('routes must be a list');
  return raw.map((r: unknown) => {
    const route = (r ?? {}) as Record<string, unknown>;
    if (typeof route.dst !== 'string' || parsePrefix(route.dst) === undefined) throw fail(`invalid route dst ${JSON.stringify(route.dst)}`);
    if (route.gw !== undefined && (typeof route.gw !== 'string' || parseIPv4(route.gw) === undefined)) {
      throw fail(`invalid route gw ${JSON.stringify(route.gw)}`);
    }
    return { dst: route.dst, ...(route.gw !== undefined ? { gw: route.gw as string } : {}) };
  });
}

/**
 * Candidate addresses of a range set in host-local's order: from just after the last reserved
 * address (or from the first range's start), through the ranges round-robin, wrapping, once around,
 * gateways skipped.
 */
export function* candidates(set: RangeSet, lastReserved?: number): Generator<{ ip: number; range: Range }> {
  const found = lastReserved === undefined ? -1 : set.findIndex((r) => inRange(r, lastReserved));
  let index = Math.max(found, 0);
  // Starting "at" the last reserved address: the first step moves past it.
  let cur = found >= 0 ? lastReserved : undefined;
  // Where the walk began; reaching it again ends the walk.
  let start: { index: number; ip: number } | undefined;
  for (;;) {
    let range = set[index]!;
    if (cur === undefined) {
      cur = range.rangeStart;
    } else if (cur === range.rangeEnd) {
      index = (index + 1) % set.length;
      range = set[index]!;
      cur = range.rangeStart;
    } else {
      cur += 1;
    }
    if (start === undefined) start = { index, ip: cur };
    else if (start.index === index && start.ip === cur) return;
    if (cur !== range.gateway) yield { ip: cur, range };
  }
}

/** IP= in CNI_ARGS (comma-separated), as requested addresses. */
function requestedIPs(args: Map<string, string>): number[] {
  const value = args.get('IP');
  if (!value) return [];
  return value.split(',').map((text) => {
    const ip = parseIPv4(text.trim());
    if (ip === undefined) throw new CniError(ErrorCode.InvalidEnvironment, `invalid IP in CNI_ARGS: ${JSON.stringify(text)}`);
    return ip;
  });
}

/** Allocate one address per range set; the abbreviated IPAM result (no interface indexes). */
export async function ipamAdd(conf: HostLocalConfig, att: Attachment, args: Map<string, string>): Promise<CniResult> {
  const store = new HostLocalStore(conf.dataDir, att.network);
  const wanted = requestedIPs(args);
  return store.locked(() => {
    const ips: CniIPConfig[] = [];
    try {
      conf.rangeSets.forEach((set, i) => {
        try {
          ips.push(allocateFromSet(store, set, i, att, wanted));
        } catch (e) {
          throw fail(`failed to allocate for range ${i}: ${(e as Error).message}`);
        }
      });
      if (wanted.length > 0) throw fail(`failed to allocate all requested IPs: ${wanted.map(formatIPv4).join(', ')}`);
    } catch (e) {
      // Only what this call reserved: a duplicate ADD must not free the first ADD's address.
      for (const ip of ips) store.release(ip.address.split('/')[0]!);
      throw e;
    }
    return { cniVersion: '1.0.0', ips, routes: conf.routes, dns: {} };
  });
}

/** Reserves from one set; consumes the requested address that falls in it from `wanted`. */
function allocateFromSet(store: HostLocalStore, set: RangeSet, index: number, att: Attachment, wanted: number[]): CniIPConfig {
  const result = (ip: number, r: Range): CniIPConfig => ({ address: formatPrefix(ip, r.subnet.length), gateway: formatIPv4(r.gateway) });
  const requested = wanted.findIndex((ip) => rangeFor(set, ip) !== undefined);
  if (requested >= 0) {
    const ip = wanted.splice(requested, 1)[0]!;
    const r = rangeFor(set, ip)!;
    if (ip === r.gateway) throw new Error(`requested ip ${formatIPv4(ip)} is subnet's gateway`);
    if (!store.reserve(att.containerID, att.ifname, formatIPv4(ip), index)) {
      throw new Error(`requested IP address ${formatIPv4(ip)} is not available in range set ${rangeSetString(set)}`);
    }
    return result(ip, r);
  }
  // A runtime must not ADD the same attachment twice; host-local refuses instead of handing out another.
  for (const held of store.findByAttachment(att.containerID, att.ifname)) {
    const ip = parseIPv4(held);
    if (ip !== undefined && rangeFor(set, ip)) {
      throw new Error(`${held} has been allocated to ${att.containerID}, duplicate allocation is not allowed`);
    }
  }
  const last = store.lastReserved(index);
  for (const { ip, range } of candidates(set, last === undefined ? undefined : parseIPv4(last))) {
    if (store.reserve(att.containerID, att.ifname, formatIPv4(ip), index)) return result(ip, range);
  }
  throw new Error(`no IP addresses available in range set: ${rangeSetString(set)}`);
}

export async function ipamDel(conf: HostLocalConfig, att: Attachment): Promise<void> {
  const store = new HostLocalStore(conf.dataDir, att.network);
  await store.locked(() => store.releaseByAttachment(att.containerID, att.ifname));
}

export async function ipamCheck(conf: HostLocalConfig, att: Attachment): Promise<void> {
  const store = new HostLocalStore(conf.dataDir, att.network);
  const found = await store.locked(() => store.findByAttachment(att.containerID, att.ifname));
  if (found.length === 0) throw fail(`host-local: Failed to find address added by container ${att.containerID}`);
}
