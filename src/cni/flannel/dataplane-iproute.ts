// flannel's dataplane through iproute2, for a namespace other than this process's: the kernel read
// with `ip -j -d` / `bridge -j` (two processes), a plan applied in one batch per phase.

import { bridgeBatch, ipBatch, type BatchLine, type IpLinkWithAddrs } from '../../sys/iproute.js';
import type { Netns } from '../../sys/netns.js';
import type { RtFdbEntry, RtNeighbour, RtRoute } from '../../sys/rtnetlink.js';
import type { KernelView } from './dataplane.js';
import { VXLAN_DEVICE } from './desired.js';
import { toleratedRefusal, type DataplaneChange, type DataplanePlan, type ObservedDevice } from './diff.js';

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

/** `ip route` prints "default" for /0 and host routes without /32. */
function withLength(dst: string): string {
  if (dst === 'default') return '0.0.0.0/0';
  return dst.includes('/') ? dst : `${dst}/32`;
}

export async function readWithIproute(ns: Netns): Promise<KernelView> {
  // One ip process: all links with addresses (a missing flannel.1 must not fail the batch), neighbours, routes.
  const [links = [], neighbours = [], routes = []] = await ipBatch(
    ns,
    [{ args: ['addr', 'show'] }, { args: ['neigh', 'show'] }, { args: ['route', 'show', 'table', 'main'] }],
    { json: true, details: true },
  );
  const link = (links as VxlanLink[]).find((l) => l.ifname === VXLAN_DEVICE);
  const view: KernelView = {
    device: link && toDevice(link),
    neighbours: (neighbours as JsonNeighbour[])
      .filter((n) => !n.dst.includes(':'))
      .map((n): RtNeighbour => ({ dev: n.dev ?? '', ip: n.dst, mac: n.lladdr, permanent: (n.state ?? []).includes('PERMANENT') })),
    fdb: [],
    routes: (routes as JsonRoute[]).map(
      (r): RtRoute => ({ dst: withLength(r.dst), gateway: r.gateway, dev: r.dev, onlink: (r.flags ?? []).includes('onlink') }),
    ),
  };
  if (link !== undefined) {
    const [fdb = []] = await bridgeBatch(ns, [{ args: ['fdb', 'show', 'dev', VXLAN_DEVICE] }], { json: true });
    view.fdb = (fdb as JsonFdb[]).map(
      (f): RtFdbEntry => ({
        dev: VXLAN_DEVICE,
        mac: f.mac,
        dst: f.dst,
        self: (f.flags ?? []).includes('self'),
        permanent: f.state === 'permanent',
      }),
    );
  }
  return view;
}

function commandWords(change: DataplaneChange): string[] {
  switch (change.op) {
    case 'link-add': {
      const d = change.device;
      return [
        ...['link', 'add', d.name, 'address', d.mac, 'mtu', String(d.mtu), 'type', 'vxlan', 'id', String(d.vni)],
        ...['local', d.local, 'dev', d.link, 'dstport', String(d.port), 'nolearning'],
      ];
    }
    case 'link-del':
      return ['link', 'del', change.name];
    case 'link-mtu':
      return ['link', 'set', change.name, 'mtu', String(change.mtu)];
    case 'link-mac':
      return ['link', 'set', change.name, 'address', change.mac];
    case 'link-up':
      return ['link', 'set', change.name, 'up'];
    case 'addr-add':
    case 'addr-del':
      return ['addr', change.op === 'addr-add' ? 'add' : 'del', change.address, 'dev', change.dev];
    case 'route-replace': {
      const r = change.route;
      return ['route', 'replace', r.dst, 'via', r.gateway, 'dev', r.dev, ...(r.onlink ? ['onlink'] : [])];
    }
    case 'route-del':
      return ['route', 'del', change.route.dst, 'via', change.route.gateway, 'dev', change.route.dev];
    case 'neigh-replace':
      return ['neigh', 'replace', change.neighbour.ip, 'lladdr', change.neighbour.mac, 'dev', change.dev, 'nud', 'permanent'];
    case 'neigh-del':
      return ['neigh', 'del', change.ip, 'dev', change.dev];
    case 'fdb-replace':
      return ['fdb', 'replace', change.entry.mac, 'dev', change.dev, 'dst', change.entry.dst, 'self', 'permanent'];
    case 'fdb-del':
      return ['fdb', 'del', change.entry.mac, 'dev', change.dev, 'dst', change.entry.dst, 'self'];
  }
}

/** The `ip` (or, for FDB changes, `bridge`) batch line of one change. */
export function batchLine(change: DataplaneChange): BatchLine {
  const tolerate = toleratedRefusal(change);
  return tolerate === undefined ? { args: commandWords(change) } : { args: commandWords(change), tolerate };
}

export async function applyWithIproute(ns: Netns, plan: DataplanePlan): Promise<void> {
  await ipBatch(ns, plan.ip.map(batchLine));
  await bridgeBatch(ns, plan.bridge.map(batchLine));
  await ipBatch(ns, plan.ipLast.map(batchLine));
}
