// What flannel wants in its node's namespace, as a pure function of its own lease, the other nodes'
// leases and the backend:
//   vxlan    flannel.1 (VNI 1, UDP 8472, nolearning, <subnet>.0/32) and per remote node, in this
//            order, a permanent neighbour <their .0> → their VTEP MAC, a permanent FDB entry
//            their VTEP MAC → their underlay IP, and a route <their subnet> via <their .0> onlink;
//   host-gw  per remote node a route <their subnet> via <their underlay IP> dev eth0;
//   none     nothing: the routes are the student's to add.

import { formatIPv4, networkOf, parsePrefix } from '../plugin/ipv4.js';
import { NODE_UPLINK } from '../topology/names.js';
import { VXLAN_VNI, type Backend, type Lease } from './lease.js';

export const VXLAN_DEVICE = `flannel.${VXLAN_VNI}`;
/** The Linux default VXLAN port (not IANA's 4789), as flannel leaves it. */
export const VXLAN_PORT = 8472;
/** Inner Ethernet 14 + outer IPv4 20 + UDP 8 + VXLAN 8. */
export const VXLAN_OVERHEAD = 50;

export interface VxlanDevice {
  name: string;
  vni: number;
  port: number;
  /** Outer source address: the node's underlay IP. */
  local: string;
  /** The underlay device the tunnel sends through. */
  link: string;
  mtu: number;
  mac: string;
  /** <subnet network address>/32. */
  address: string;
}

export interface Neighbour {
  ip: string;
  mac: string;
}

export interface FdbEntry {
  mac: string;
  dst: string;
}

export interface Route {
  dst: string;
  gateway: string;
  dev: string;
  onlink: boolean;
}

export interface DesiredDataplane {
  device?: VxlanDevice;
  neighbours: Neighbour[];
  fdb: FdbEntry[];
  routes: Route[];
}

export interface SelfLease {
  node: string;
  subnet: string;
  publicIP: string;
  vtepMAC: string;
  /** MTU of the node's eth0. */
  uplinkMTU: number;
}

/** The MTU pods get: what is left of the underlay's once the backend's encapsulation is paid. */
export function backendMTU(backend: Backend, uplinkMTU: number): number {
  return backend === 'vxlan' ? uplinkMTU - VXLAN_OVERHEAD : uplinkMTU;
}

/** The subnet's network address: 10.244.2.0/24 → 10.244.2.0. */
export function subnetAddress(subnet: string): string {
  const p = parsePrefix(subnet);
  if (p === undefined) throw new Error(`invalid pod subnet ${JSON.stringify(subnet)}`);
  return formatIPv4(networkOf(p));
}

/** Remote leases this backend programs: other nodes of the same backend type, in a stable order. */
export function remoteLeases(self: string, backend: Backend, leases: readonly Lease[]): Lease[] {
  return leases
    .filter((l) => l.node !== self && l.backendType === backend && (backend !== 'vxlan' || l.vtepMAC !== undefined))
    .sort((a, b) => a.node.localeCompare(b.node));
}

export function desiredDataplane(backend: Backend, self: SelfLease, leases: readonly Lease[]): DesiredDataplane {
  const peers = remoteLeases(self.node, backend, leases);
  switch (backend) {
    case 'vxlan':
      return {
        device: {
          name: VXLAN_DEVICE,
          vni: VXLAN_VNI,
          port: VXLAN_PORT,
          local: self.publicIP,
          link: NODE_UPLINK,
          mtu: backendMTU(backend, self.uplinkMTU),
          mac: self.vtepMAC,
          address: `${subnetAddress(self.subnet)}/32`,
        },
        neighbours: peers.map((p) => ({ ip: subnetAddress(p.subnet), mac: p.vtepMAC as string })),
        fdb: peers.map((p) => ({ mac: p.vtepMAC as string, dst: p.publicIP })),
        routes: peers.map((p) => ({ dst: p.subnet, gateway: subnetAddress(p.subnet), dev: VXLAN_DEVICE, onlink: true })),
      };
    case 'host-gw':
      return {
        neighbours: [],
        fdb: [],
        routes: peers.map((p) => ({ dst: p.subnet, gateway: p.publicIP, dev: NODE_UPLINK, onlink: false })),
      };
    case 'none':
      return { neighbours: [], fdb: [], routes: [] };
  }
}
