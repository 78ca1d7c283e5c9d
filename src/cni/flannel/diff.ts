// The changes that turn the observed state of a node's namespace into the desired one (pure), as
// typed changes that dataplane.ts applies through rtnetlink or iproute2. Three phases, named after
// the iproute2 batch that runs each, applied in this order so a remote node's entries appear as
// flannel adds them — neighbour, FDB, route (a route before its neighbour would make the kernel ARP
// for the gateway) — and leave in reverse: route, neighbour, FDB.
//   ip      device changes, stale route deletions, neighbour changes
//   bridge  FDB changes
//   ipLast  route additions
// Only entries flannel owns are ever deleted: neighbours and FDB entries on flannel.1, and routes in
// the cluster CIDR via flannel.1 or via a gateway on eth0 (never the connected cni0 route).

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

/** One kernel change; each reads as the iproute2 command that makes it. */
export type DataplaneChange =
  | { op: 'link-add'; device: VxlanDevice }
  | { op: 'link-del'; name: string }
  | { op: 'link-mtu'; name: string; mtu: number }
  | { op: 'link-mac'; name: string; mac: string }
  | { op: 'link-up'; name: string }
  | { op: 'addr-add' | 'addr-del'; dev: string; address: string }
  | { op: 'route-replace' | 'route-del'; route: Route }
  | { op: 'neigh-replace'; dev: string; neighbour: Neighbour }
  | { op: 'neigh-del'; dev: string; ip: string }
  | { op: 'fdb-replace' | 'fdb-del'; dev: string; entry: FdbEntry };

/**
 * The kernel refusal that only means "already done": a create that finds the object there, a delete
 * that finds it gone (the state may have moved since it was observed).
 */
export function toleratedRefusal(change: DataplaneChange): 'exists' | 'missing' | undefined {
  if (change.op === 'link-add' || change.op === 'addr-add') return 'exists';
  return change.op.endsWith('-del') ? 'missing' : undefined;
}

export interface DataplanePlan {
  ip: DataplaneChange[];
  bridge: DataplaneChange[];
  ipLast: DataplaneChange[];
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

function deviceChanges(want: VxlanDevice | undefined, have: ObservedDevice | undefined): DataplaneChange[] {
  if (want === undefined) {
    return have === undefined ? [] : [{ op: 'link-del', name: VXLAN_DEVICE }];
  }
  const changes: DataplaneChange[] = [];
  const recreate = have !== undefined && deviceMismatch(want, have);
  if (recreate) changes.push({ op: 'link-del', name: want.name });
  const current = recreate ? undefined : have;
  if (current === undefined) {
    changes.push({ op: 'link-add', device: want });
  } else {
    if (current.mtu !== want.mtu) changes.push({ op: 'link-mtu', name: want.name, mtu: want.mtu });
    if (current.mac !== want.mac) changes.push({ op: 'link-mac', name: want.name, mac: want.mac });
  }
  const addresses = current?.addresses ?? [];
  for (const a of addresses) if (a !== want.address) changes.push({ op: 'addr-del', dev: want.name, address: a });
  if (!addresses.includes(want.address)) changes.push({ op: 'addr-add', dev: want.name, address: want.address });
  if (!current?.up) changes.push({ op: 'link-up', name: want.name });
  return changes;
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
  const plan: DataplanePlan = { ip: deviceChanges(want.device, have.device), bridge: [], ipLast: [] };
  const deviceGoneOrNew = want.device === undefined || have.device === undefined || deviceMismatch(want.device, have.device);

  if (manageRoutes) {
    for (const r of have.routes) {
      if (!isFlannelRoute(r, clusterCIDR) || want.routes.some((w) => sameRoute(w, r))) continue;
      // a replace of the same dst below moves it; deleting first would open a gap
      if (want.routes.some((w) => w.dst === r.dst)) continue;
      plan.ip.push({ op: 'route-del', route: r });
    }
    for (const w of want.routes) {
      if (have.routes.some((r) => sameRoute(w, r)) && !(w.dev === VXLAN_DEVICE && deviceGoneOrNew)) continue;
      plan.ipLast.push({ op: 'route-replace', route: w });
    }
  }

  if (want.device === undefined) return plan; // deleting flannel.1 takes its neighbours and FDB along
  const haveNeighbours = deviceGoneOrNew ? [] : have.neighbours;
  const haveFdb = deviceGoneOrNew ? [] : have.fdb;
  for (const n of want.neighbours) {
    if (haveNeighbours.some((h) => h.ip === n.ip && h.mac === n.mac)) continue;
    plan.ip.push({ op: 'neigh-replace', dev: VXLAN_DEVICE, neighbour: n });
  }
  for (const h of haveNeighbours) {
    if (want.neighbours.some((n) => n.ip === h.ip)) continue;
    plan.ip.push({ op: 'neigh-del', dev: VXLAN_DEVICE, ip: h.ip });
  }
  for (const f of want.fdb) {
    if (haveFdb.some((h) => h.mac === f.mac && h.dst === f.dst)) continue;
    plan.bridge.push({ op: 'fdb-replace', dev: VXLAN_DEVICE, entry: f });
  }
  for (const h of haveFdb) {
    if (want.fdb.some((f) => f.mac === h.mac && f.dst === h.dst)) continue;
    plan.bridge.push({ op: 'fdb-del', dev: VXLAN_DEVICE, entry: h });
  }
  return plan;
}
