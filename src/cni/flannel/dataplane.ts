// The shell around diff.ts: read flannel's part of a node's namespace with `ip -j` / `bridge -j`
// (two processes), then apply the plan in at most three batches.

import { bridgeBatch, ipBatch, type IpLinkWithAddrs } from '../../sys/iproute.js';
import type { Netns } from '../../sys/netns.js';
import { VXLAN_DEVICE, type FdbEntry, type Neighbour, type Route } from './desired.js';
import type { DataplanePlan, ObservedDataplane, ObservedDevice } from './diff.js';

interface VxlanLink extends IpLinkWithAddrs {
  linkinfo?: IpLinkWithAddrs['linkinfo'] & {
    info_data?: { id?: number; local?: string; link?: string; port?: number; learning?: boolean };
  };
}

interface JsonNeighbour {
  dst: string;
  dev?: string;
  lladdr?: string;
  state?: string[];
}

interface JsonFdb {
  mac: string;
  dst?: string;
  flags?: string[];
  state?: string;
}

interface JsonRoute {
  dst: string;
  gateway?: string;
  dev?: string;
  flags?: string[];
}

function toDevice(link: VxlanLink): ObservedDevice {
  const data = link.linkinfo?.info_data ?? {};
  return {
    kind: link.linkinfo?.info_kind,
    vni: data.id,
    local: data.local,
    port: data.port,
    link: data.link,
    learning: data.learning,
    mtu: link.mtu,
    mac: link.address,
    up: link.flags.includes('UP'),
    addresses: link.addr_info.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`),
  };
}

function withLength(dst: string): string {
  return dst.includes('/') ? dst : `${dst}/32`;
}

export async function observeDataplane(ns: Netns | undefined): Promise<ObservedDataplane> {
  // One ip process: all links with addresses (a missing flannel.1 must not fail the batch), neighbours, routes.
  const [links = [], neighbours = [], routes = []] = await ipBatch(
    ns,
    [{ args: ['addr', 'show'] }, { args: ['neigh', 'show'] }, { args: ['route', 'show', 'table', 'main'] }],
    { json: true, details: true },
  );
  const link = (links as VxlanLink[]).find((l) => l.ifname === VXLAN_DEVICE);
  const observed: ObservedDataplane = {
    device: link && toDevice(link),
    neighbours: (neighbours as JsonNeighbour[])
      .filter((n) => n.dev === VXLAN_DEVICE && n.lladdr !== undefined && (n.state ?? []).includes('PERMANENT'))
      .map((n): Neighbour => ({ ip: n.dst, mac: n.lladdr as string })),
    fdb: [],
    routes: (routes as JsonRoute[])
      .filter((r) => r.dst !== 'default' && r.dev !== undefined)
      .map((r): Route => ({ dst: withLength(r.dst), gateway: r.gateway ?? '', dev: r.dev as string, onlink: (r.flags ?? []).includes('onlink') })),
  };
  if (link !== undefined) {
    const [fdb = []] = await bridgeBatch(ns, [{ args: ['fdb', 'show', 'dev', VXLAN_DEVICE] }], { json: true });
    observed.fdb = (fdb as JsonFdb[])
      .filter((f) => f.dst !== undefined && (f.flags ?? []).includes('self') && f.state === 'permanent')
      .map((f): FdbEntry => ({ mac: f.mac, dst: f.dst as string }));
  }
  return observed;
}

export async function applyDataplane(ns: Netns | undefined, plan: DataplanePlan): Promise<void> {
  await ipBatch(ns, plan.ip);
  await bridgeBatch(ns, plan.bridge);
  await ipBatch(ns, plan.ipLast);
}
