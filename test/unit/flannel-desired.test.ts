import { describe, expect, it } from 'vitest';
import type { Node } from '../../src/api/types.js';
import { backendMTU, desiredDataplane, remoteLeases, subnetAddress } from '../../src/cni/flannel/desired.js';
import { ANNOTATIONS, derivedVtepMAC, leaseOf, ownAnnotations, vtepMACOf, type Lease } from '../../src/cni/flannel/lease.js';

const MAC_A = '0a:00:00:00:00:0a';
const MAC_B = '0a:00:00:00:00:0b';

function node(name: string, podCIDR: string | undefined, annotations: Record<string, string>): Node {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name, annotations }, spec: podCIDR ? { podCIDR } : {} };
}

const self = { node: 'c-control-plane', subnet: '10.244.0.0/24', publicIP: '172.30.1.2', vtepMAC: MAC_A, uplinkMTU: 1500 };
const worker: Lease = { node: 'c-worker', subnet: '10.244.1.0/24', publicIP: '172.30.1.3', backendType: 'vxlan', vtepMAC: MAC_B };

describe('leases from Node objects', () => {
  it('reads a lease from podCIDR and the annotations flannel writes', () => {
    const n = node('c-worker', '10.244.1.0/24', ownAnnotations('vxlan', '172.30.1.3', MAC_B));
    expect(leaseOf(n)).toEqual(worker);
  });

  it('ignores nodes without kube-subnet-manager=true, a podCIDR or a public IP', () => {
    const full = ownAnnotations('vxlan', '172.30.1.3', MAC_B);
    expect(leaseOf(node('a', '10.244.1.0/24', { ...full, [ANNOTATIONS.kubeSubnetManager]: 'false' }))).toBeUndefined();
    expect(leaseOf(node('a', undefined, full))).toBeUndefined();
    const { [ANNOTATIONS.publicIP]: _dropped, ...noIP } = full;
    expect(leaseOf(node('a', '10.244.1.0/24', noIP))).toBeUndefined();
  });

  it('writes flannel annotation values: VNI+VtepMAC for vxlan, null backend-data for host-gw', () => {
    expect(ownAnnotations('vxlan', '172.30.1.2', MAC_A)).toEqual({
      'flannel.alpha.coreos.com/backend-type': 'vxlan',
      'flannel.alpha.coreos.com/backend-data': '{"VNI":1,"VtepMAC":"0a:00:00:00:00:0a"}',
      'flannel.alpha.coreos.com/public-ip': '172.30.1.2',
      'flannel.alpha.coreos.com/kube-subnet-manager': 'true',
    });
    expect(ownAnnotations('host-gw', '172.30.1.2', undefined)['flannel.alpha.coreos.com/backend-data']).toBe('null');
  });

  it('parses VtepMAC from backend-data and rejects garbage', () => {
    expect(vtepMACOf('{"VNI":1,"VtepMAC":"0A:00:00:00:00:0B"}')).toBe(MAC_B);
    expect(vtepMACOf('null')).toBeUndefined();
    expect(vtepMACOf('{"VtepMAC":"nope"}')).toBeUndefined();
    expect(vtepMACOf('{')).toBeUndefined();
  });

  it('derives a stable, locally administered unicast VTEP MAC per node', () => {
    const mac = derivedVtepMAC('c', 'c-worker');
    expect(mac).toBe(derivedVtepMAC('c', 'c-worker'));
    expect(mac).not.toBe(derivedVtepMAC('c', 'c-worker2'));
    expect(mac).not.toBe(derivedVtepMAC('d', 'c-worker'));
    const first = Number.parseInt(mac.slice(0, 2), 16);
    expect(first & 0x01).toBe(0); // unicast
    expect(first & 0x02).toBe(2); // locally administered
  });
});

describe('desired dataplane', () => {
  it('vxlan: flannel.1 with VNI 1, port 8472, MTU eth0-50, <subnet>.0/32 and neighbour+FDB+onlink route per peer', () => {
    const want = desiredDataplane('vxlan', self, [worker]);
    expect(want.device).toEqual({
      name: 'flannel.1',
      vni: 1,
      port: 8472,
      local: '172.30.1.2',
      link: 'eth0',
      mtu: 1450,
      mac: MAC_A,
      address: '10.244.0.0/32',
    });
    expect(want.neighbours).toEqual([{ ip: '10.244.1.0', mac: MAC_B }]);
    expect(want.fdb).toEqual([{ mac: MAC_B, dst: '172.30.1.3' }]);
    expect(want.routes).toEqual([{ dst: '10.244.1.0/24', gateway: '10.244.1.0', dev: 'flannel.1', onlink: true }]);
  });

  it('host-gw: a route via the peer underlay IP on eth0, no device', () => {
    const want = desiredDataplane('host-gw', self, [{ ...worker, backendType: 'host-gw', vtepMAC: undefined }]);
    expect(want.device).toBeUndefined();
    expect(want.routes).toEqual([{ dst: '10.244.1.0/24', gateway: '172.30.1.3', dev: 'eth0', onlink: false }]);
  });

  it('none: nothing at all', () => {
    expect(desiredDataplane('none', self, [worker])).toEqual({ neighbours: [], fdb: [], routes: [] });
  });

  it('skips itself, other backend types and vxlan peers without a VTEP MAC; sorts by node name', () => {
    const leases: Lease[] = [
      { ...worker, node: 'c-worker2', subnet: '10.244.2.0/24' },
      worker,
      { ...worker, node: self.node, subnet: self.subnet },
      { ...worker, node: 'c-worker3', backendType: 'host-gw' },
      { ...worker, node: 'c-worker4', vtepMAC: undefined },
    ];
    expect(remoteLeases(self.node, 'vxlan', leases).map((l) => l.node)).toEqual(['c-worker', 'c-worker2']);
  });

  it('a node leaving removes its entries', () => {
    const two = desiredDataplane('vxlan', self, [worker, { ...worker, node: 'c-worker2', subnet: '10.244.2.0/24', vtepMAC: '0a:00:00:00:00:0c' }]);
    const one = desiredDataplane('vxlan', self, [worker]);
    expect(two.routes).toHaveLength(2);
    expect(one.routes.map((r) => r.dst)).toEqual(['10.244.1.0/24']);
  });

  it('MTU per backend and subnet network addresses', () => {
    expect(backendMTU('vxlan', 1500)).toBe(1450);
    expect(backendMTU('host-gw', 1500)).toBe(1500);
    expect(subnetAddress('10.244.7.0/24')).toBe('10.244.7.0');
    expect(() => subnetAddress('bogus')).toThrow(/invalid pod subnet/);
  });
});
