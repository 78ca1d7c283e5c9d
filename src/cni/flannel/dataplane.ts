// The shell around diff.ts: read flannel's part of a node's namespace and apply a plan, through one
// of two thin adapters over the same plan:
//   rtnetlink (dataplane-rtnetlink.ts)  when flannel runs in the node's own namespace (the node agent,
//                                       opts.netns unset): netlink requests, no process spawned;
//   iproute2 (dataplane-iproute.ts)     when one process drives another namespace (tests that run
//                                       several nodes' flannel side by side): a netlink socket belongs
//                                       to the namespace of the process that opened it and the
//                                       `netlink` package has no setns, so the only way in is an
//                                       `ip`/`bridge` process started there, one batch per phase.
// Both read the kernel into the same KernelView, and flannelPart() picks what flannel owns from it.

import type { Netns } from '../../sys/netns.js';
import type { RtFdbEntry, RtNeighbour, RtRoute } from '../../sys/rtnetlink.js';
import { applyWithIproute, readWithIproute } from './dataplane-iproute.js';
import { applyWithRtnetlink, readWithRtnetlink } from './dataplane-rtnetlink.js';
import { VXLAN_DEVICE } from './desired.js';
import type { DataplanePlan, ObservedDataplane, ObservedDevice } from './diff.js';

/** The kernel objects flannel looks at, whichever way they were read. */
export interface KernelView {
  device?: ObservedDevice;
  /** IPv4 neighbours of every link. */
  neighbours: RtNeighbour[];
  /** Bridge FDB entries of flannel.1 (none when it does not exist). */
  fdb: RtFdbEntry[];
  /** IPv4 routes of the main table, dst with a prefix length. */
  routes: RtRoute[];
}

const DEFAULT_ROUTE = '0.0.0.0/0';

/** flannel's part: permanent neighbours and `self` permanent FDB entries on flannel.1, and the routes with a device. */
export function flannelPart(view: KernelView): ObservedDataplane {
  return {
    device: view.device,
    neighbours: view.neighbours
      .filter((n) => n.dev === VXLAN_DEVICE && n.mac !== undefined && n.permanent)
      .map((n) => ({ ip: n.ip, mac: n.mac as string })),
    fdb: view.fdb.filter((f) => f.dst !== undefined && f.self && f.permanent).map((f) => ({ mac: f.mac, dst: f.dst as string })),
    routes: view.routes
      .filter((r) => r.dst !== DEFAULT_ROUTE && r.dev !== undefined)
      .map((r) => ({ dst: r.dst, gateway: r.gateway ?? '', dev: r.dev as string, onlink: r.onlink })),
  };
}

export async function observeDataplane(ns: Netns | undefined): Promise<ObservedDataplane> {
  return flannelPart(ns === undefined ? await readWithRtnetlink() : await readWithIproute(ns));
}

export async function applyDataplane(ns: Netns | undefined, plan: DataplanePlan): Promise<void> {
  if (ns === undefined) await applyWithRtnetlink(plan);
  else await applyWithIproute(ns, plan);
}
