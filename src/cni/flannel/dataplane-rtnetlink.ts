// flannel's dataplane through rtnetlink, for the namespace this process runs in (the node agent's):
// the kernel read with a handful of dumps on one socket, a plan applied request by request.

import { RtnetlinkError, withRtnetlink, type Rtnetlink } from '../../sys/rtnetlink.js';
import type { KernelView } from './dataplane.js';
import { VXLAN_DEVICE } from './desired.js';
import { toleratedRefusal, type DataplaneChange, type DataplanePlan } from './diff.js';

export function readWithRtnetlink(): Promise<KernelView> {
  return withRtnetlink(async (nl) => {
    const link = (await nl.links()).find((l) => l.name === VXLAN_DEVICE);
    const addresses = await nl.addresses();
    const view: KernelView = { neighbours: await nl.neighbours(), fdb: [], routes: await nl.routes() };
    if (link !== undefined) {
      view.device = {
        kind: link.kind,
        vni: link.vxlan?.vni,
        local: link.vxlan?.local,
        port: link.vxlan?.port,
        link: link.vxlan?.link,
        learning: link.vxlan?.learning,
        mtu: link.mtu,
        mac: link.mac,
        up: link.up,
        addresses: addresses.filter((a) => a.index === link.index).map((a) => `${a.local}/${a.prefixlen}`),
      };
      view.fdb = await nl.fdb(VXLAN_DEVICE);
    }
    return view;
  });
}

function send(nl: Rtnetlink, change: DataplaneChange): Promise<void> {
  switch (change.op) {
    case 'link-add':
      return nl.createVxlan({ ...change.device, learning: false });
    case 'link-del':
      return nl.deleteLink(change.name);
    case 'link-mtu':
      return nl.setMtu(change.name, change.mtu);
    case 'link-mac':
      return nl.setMac(change.name, change.mac);
    case 'link-up':
      return nl.setUp(change.name);
    case 'addr-add':
      return nl.addAddress(change.dev, change.address);
    case 'addr-del':
      return nl.deleteAddress(change.dev, change.address);
    case 'route-replace':
      return nl.replaceRoute(change.route);
    case 'route-del':
      return nl.deleteRoute(change.route);
    case 'neigh-replace':
      return nl.replaceNeighbour(change.dev, change.neighbour.ip, change.neighbour.mac);
    case 'neigh-del':
      return nl.deleteNeighbour(change.dev, change.ip);
    case 'fdb-replace':
      return nl.replaceFdb(change.dev, change.entry.mac, change.entry.dst);
    case 'fdb-del':
      return nl.deleteFdb(change.dev, change.entry.mac, change.entry.dst);
  }
}

/**
 * Every change of a phase is tried, as an iproute2 `-force` batch would; the refusals that are not
 * "already done" are reported together and stop the later phases.
 */
async function applyPhase(nl: Rtnetlink, changes: readonly DataplaneChange[]): Promise<void> {
  const failures: RtnetlinkError[] = [];
  for (const change of changes) {
    try {
      await send(nl, change);
    } catch (e) {
      if (!(e instanceof RtnetlinkError)) throw e;
      if (e.refusedAs() === undefined || e.refusedAs() !== toleratedRefusal(change)) failures.push(e);
    }
  }
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1) throw new Error(failures.map((f) => f.message).join('; '));
}

export function applyWithRtnetlink(plan: DataplanePlan): Promise<void> {
  return withRtnetlink(async (nl) => {
    await applyPhase(nl, plan.ip);
    await applyPhase(nl, plan.bridge);
    await applyPhase(nl, plan.ipLast);
  });
}
