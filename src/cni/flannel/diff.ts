// The changes that turn the observed state of a node's namespace into the desired one (pure). Three
// batches, run in this order so a remote node's entries appear as flannel adds them — neighbour, FDB,
// route (a route before its neighbour would make the kernel ARP for the gateway) — and leave in
// reverse: route, neighbour, FDB.
//   ip      device changes, stale route deletions, neighbour changes
//   bridge  FDB changes
//   ipLast  route additions
// Only entries flannel owns are ever deleted: neighbours and FDB entries on flannel.1, and routes in
// the cluster CIDR via flannel.1 or via a gateway on eth0 (never the connected cni0 route).

import type { BatchLine } from '../../sys/iproute.js';
import { contains, networkOf, parsePrefix } from '../plugin/ipv4.js';
import { NODE_UPLINK } from '../topology/names.js';
import { VXLAN_DEVICE, type DesiredDataplane, type FdbEntry, type Neighbour, type Route, type VxlanDevice } from './desired.js';

export interface ObservedDevice {
  kind?: string;
  vni?: number;
  local?: string;
  port?: number;
  link?: string;
  learning?: boolean;
  mtu: number;
  mac?: string;
  up: boolean;
  /** IPv4 addresses as a/len. */
  addresses: string[];
}

export interface ObservedDataplane {
  device?: ObservedDevice;
  /** Permanent neighbours on flannel.1. */
  neighbours: Neighbour[];
  /** Permanent `self` FDB entries with a dst on flannel.1. */
  fdb: FdbEntry[];
  /** Routes of the main table (dst always with a prefix length). */
  routes: Route[];
}

export interface DataplanePlan {
  ip: BatchLine[];
  bridge: BatchLine[];
  ipLast: BatchLine[];
}

export function isEmptyPlan(plan: DataplanePlan): boolean {
  return plan.ip.length + plan.bridge.length + plan.ipLast.length === 0;
}

function deviceMismatch(want: VxlanDevice, have: ObservedDevice): boolean {
  return (
    have.kind !== 'vxlan' ||
    have.vni !== want.vni ||
    have.local !== want.local ||
    have.port !== want.port ||
    have.link !== want.link ||
    have.learning !== false
  );
}

function createDevice(d: VxlanDevice): BatchLine {
  const args = ['link', 'add', d.name, 'address', d.mac, 'mtu', String(d.mtu), 'type', 'vxlan', 'id', String(d.vni)];
  args.push('local', d.local, 'dev', d.link, 'dstport', String(d.port), 'nolearning');
  return { args, tolerate: 'exists' };
}

function deviceLines(want: VxlanDevice | undefined, have: ObservedDevice | undefined): BatchLine[] {
  if (want === undefined) {
    return have === undefined ? [] : [{ args: ['link', 'del', VXLAN_DEVICE], tolerate: 'missing' }];
  }
  const lines: BatchLine[] = [];
  const recreate = have !== undefined && deviceMismatch(want, have);
  if (recreate) lines.push({ args: ['link', 'del', want.name], tolerate: 'missing' });
  const current = recreate ? undefined : have;
  if (current === undefined) {
    lines.push(createDevice(want));
  } else {
    if (current.mtu !== want.mtu) lines.push({ args: ['link', 'set', want.name, 'mtu', String(want.mtu)] });
    if (current.mac !== want.mac) lines.push({ args: ['link', 'set', want.name, 'address', want.mac] });
  }
  const addresses = current?.addresses ?? [];
  for (const a of addresses) if (a !== want.address) lines.push({ args: ['addr', 'del', a, 'dev', want.name], tolerate: 'missing' });
  if (!addresses.includes(want.address)) lines.push({ args: ['addr', 'add', want.address, 'dev', want.name], tolerate: 'exists' });
  if (!current?.up) lines.push({ args: ['link', 'set', want.name, 'up'] });
  return lines;
}

function isInside(clusterCIDR: string, dst: string): boolean {
  const cluster = parsePrefix(clusterCIDR);
  const p = parsePrefix(dst);
  return cluster !== undefined && p !== undefined && p.length >= cluster.length && contains(cluster, networkOf(p));
}

/** A route flannel put there: in the cluster CIDR, via flannel.1 or via a gateway on eth0. */
function isFlannelRoute(r: Route, clusterCIDR: string): boolean {
  if (!isInside(clusterCIDR, r.dst)) return false;
  return r.dev === VXLAN_DEVICE || (r.dev === NODE_UPLINK && r.gateway !== '');
}

const sameRoute = (a: Route, b: Route) => a.dst === b.dst && a.gateway === b.gateway && a.dev === b.dev && a.onlink === b.onlink;

function routeArgs(r: Route): string[] {
  return ['route', 'replace', r.dst, 'via', r.gateway, 'dev', r.dev, ...(r.onlink ? ['onlink'] : [])];
}

/**
 * The changes, given the cluster CIDR that bounds which routes are flannel's. With manageRoutes false
 * (backend none) routes are left to the student entirely.
 */
export function planDataplane(
  want: DesiredDataplane,
  have: ObservedDataplane,
  clusterCIDR: string,
  manageRoutes = true,
): DataplanePlan {
  const plan: DataplanePlan = { ip: deviceLines(want.device, have.device), bridge: [], ipLast: [] };
  const deviceGoneOrNew = want.device === undefined || have.device === undefined || deviceMismatch(want.device, have.device);

  if (manageRoutes) {
    for (const r of have.routes) {
      if (!isFlannelRoute(r, clusterCIDR) || want.routes.some((w) => sameRoute(w, r))) continue;
      // a replace of the same dst below moves it; deleting first would open a gap
      if (want.routes.some((w) => w.dst === r.dst)) continue;
      plan.ip.push({ args: ['route', 'del', r.dst, 'via', r.gateway, 'dev', r.dev], tolerate: 'missing' });
    }
    for (const w of want.routes) {
      if (have.routes.some((r) => sameRoute(w, r)) && !(w.dev === VXLAN_DEVICE && deviceGoneOrNew)) continue;
      plan.ipLast.push({ args: routeArgs(w) });
    }
  }

  if (want.device === undefined) return plan; // deleting flannel.1 takes its neighbours and FDB along
  const haveNeighbours = deviceGoneOrNew ? [] : have.neighbours;
  const haveFdb = deviceGoneOrNew ? [] : have.fdb;
  for (const n of want.neighbours) {
    if (haveNeighbours.some((h) => h.ip === n.ip && h.mac === n.mac)) continue;
    plan.ip.push({ args: ['neigh', 'replace', n.ip, 'lladdr', n.mac, 'dev', VXLAN_DEVICE, 'nud', 'permanent'] });
  }
  for (const h of haveNeighbours) {
    if (want.neighbours.some((n) => n.ip === h.ip)) continue;
    plan.ip.push({ args: ['neigh', 'del', h.ip, 'dev', VXLAN_DEVICE], tolerate: 'missing' });
  }
  for (const f of want.fdb) {
    if (haveFdb.some((h) => h.mac === f.mac && h.dst === f.dst)) continue;
    plan.bridge.push({ args: ['fdb', 'replace', f.mac, 'dev', VXLAN_DEVICE, 'dst', f.dst, 'self', 'permanent'] });
  }
  for (const h of haveFdb) {
    if (want.fdb.some((f) => f.mac === h.mac && f.dst === h.dst)) continue;
    plan.bridge.push({ args: ['fdb', 'del', h.mac, 'dev', VXLAN_DEVICE, 'dst', h.dst, 'self'], tolerate: 'missing' });
  }
  return plan;
}
