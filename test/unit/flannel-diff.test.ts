import { describe, expect, it } from 'vitest';
import { batchLine } from '../../src/cni/flannel/dataplane-iproute.js';
import { desiredDataplane } from '../../src/cni/flannel/desired.js';
import { isEmptyPlan, planDataplane, type DataplaneChange, type ObservedDataplane } from '../../src/cni/flannel/diff.js';
import type { Lease } from '../../src/cni/flannel/lease.js';

const CLUSTER = '10.244.0.0/16';
const MAC_A = '0a:00:00:00:00:0a';
const MAC_B = '0a:00:00:00:00:0b';
const self = { node: 'c-control-plane', subnet: '10.244.0.0/24', publicIP: '172.30.1.2', vtepMAC: MAC_A, uplinkMTU: 1500 };
const worker: Lease = { node: 'c-worker', subnet: '10.244.1.0/24', publicIP: '172.30.1.3', backendType: 'vxlan', vtepMAC: MAC_B };

const cni0Route = { dst: '10.244.0.0/24', gateway: '', dev: 'cni0', onlink: false };
const uplinkRoute = { dst: '172.30.1.0/24', gateway: '', dev: 'eth0', onlink: false };

/** What the kernel shows once everything for `worker` is in place. */
function converged(): ObservedDataplane {
  return {
    device: { kind: 'vxlan', vni: 1, local: '172.30.1.2', port: 8472, link: 'eth0', learning: false, mtu: 1450, mac: MAC_A, up: true, addresses: ['10.244.0.0/32'] },
    neighbours: [{ ip: '10.244.1.0', mac: MAC_B }],
    fdb: [{ mac: MAC_B, dst: '172.30.1.3' }],
    routes: [cni0Route, uplinkRoute, { dst: '10.244.1.0/24', gateway: '10.244.1.0', dev: 'flannel.1', onlink: true }],
  };
}

/** Each change as the iproute2 command line it is applied with. */
const text = (changes: DataplaneChange[]) => changes.map((c) => batchLine(c).args.join(' '));

describe('vxlan plan', () => {
  it('from nothing: create the device, then neighbour, FDB, and the route last', () => {
    const plan = planDataplane(desiredDataplane('vxlan', self, [worker]), { neighbours: [], fdb: [], routes: [cni0Route, uplinkRoute] }, CLUSTER);
    expect(text(plan.ip)).toEqual([
      'link add flannel.1 address 0a:00:00:00:00:0a mtu 1450 type vxlan id 1 local 172.30.1.2 dev eth0 dstport 8472 nolearning',
      'addr add 10.244.0.0/32 dev flannel.1',
      'link set flannel.1 up',
      'neigh replace 10.244.1.0 lladdr 0a:00:00:00:00:0b dev flannel.1 nud permanent',
    ]);
    expect(text(plan.bridge)).toEqual(['fdb replace 0a:00:00:00:00:0b dev flannel.1 dst 172.30.1.3 self permanent']);
    expect(text(plan.ipLast)).toEqual(['route replace 10.244.1.0/24 via 10.244.1.0 dev flannel.1 onlink']);
  });

  it('converged state: nothing to do', () => {
    expect(isEmptyPlan(planDataplane(desiredDataplane('vxlan', self, [worker]), converged(), CLUSTER))).toBe(true);
  });

  it('a peer leaving: route, neighbour and FDB entry are deleted; cni0 and eth0 routes stay', () => {
    const plan = planDataplane(desiredDataplane('vxlan', self, []), converged(), CLUSTER);
    expect(text(plan.ip)).toEqual(['route del 10.244.1.0/24 via 10.244.1.0 dev flannel.1', 'neigh del 10.244.1.0 dev flannel.1']);
    expect(text(plan.bridge)).toEqual(['fdb del 0a:00:00:00:00:0b dev flannel.1 dst 172.30.1.3 self']);
    expect(plan.ipLast).toEqual([]);
  });

  it('a peer that changed its VTEP MAC and IP is replaced in place', () => {
    const moved = { ...worker, vtepMAC: '0a:00:00:00:00:0c', publicIP: '172.30.1.9' };
    const plan = planDataplane(desiredDataplane('vxlan', self, [moved]), converged(), CLUSTER);
    expect(text(plan.ip)).toEqual(['neigh replace 10.244.1.0 lladdr 0a:00:00:00:00:0c dev flannel.1 nud permanent']);
    expect(text(plan.bridge)).toEqual([
      'fdb replace 0a:00:00:00:00:0c dev flannel.1 dst 172.30.1.9 self permanent',
      'fdb del 0a:00:00:00:00:0b dev flannel.1 dst 172.30.1.3 self',
    ]);
    expect(plan.ipLast).toEqual([]);
  });

  it('an incompatible device (other VNI) is deleted and recreated with all its entries', () => {
    const have = converged();
    have.device = { ...have.device!, vni: 42 };
    const plan = planDataplane(desiredDataplane('vxlan', self, [worker]), have, CLUSTER);
    expect(text(plan.ip).slice(0, 2)).toEqual([
      'link del flannel.1',
      'link add flannel.1 address 0a:00:00:00:00:0a mtu 1450 type vxlan id 1 local 172.30.1.2 dev eth0 dstport 8472 nolearning',
    ]);
    expect(plan.bridge).toHaveLength(1);
    expect(text(plan.ipLast)).toEqual(['route replace 10.244.1.0/24 via 10.244.1.0 dev flannel.1 onlink']);
  });

  it('a learning device counts as incompatible', () => {
    const have = converged();
    have.device = { ...have.device!, learning: true };
    expect(text(planDataplane(desiredDataplane('vxlan', self, [worker]), have, CLUSTER).ip)[0]).toBe('link del flannel.1');
  });

  it('fixes MTU, MAC, stray addresses and a down device without recreating it', () => {
    const have = converged();
    have.device = { ...have.device!, mtu: 1500, mac: '0a:ff:ff:ff:ff:ff', up: false, addresses: ['10.244.0.0/16'] };
    expect(text(planDataplane(desiredDataplane('vxlan', self, [worker]), have, CLUSTER).ip)).toEqual([
      'link set flannel.1 mtu 1450',
      'link set flannel.1 address 0a:00:00:00:00:0a',
      'addr del 10.244.0.0/16 dev flannel.1',
      'addr add 10.244.0.0/32 dev flannel.1',
      'link set flannel.1 up',
    ]);
  });
});

describe('host-gw plan', () => {
  const hostGwWorker: Lease = { ...worker, backendType: 'host-gw', vtepMAC: undefined };

  it('adds a route via the peer and removes a leftover flannel.1', () => {
    const have = converged();
    const plan = planDataplane(desiredDataplane('host-gw', self, [hostGwWorker]), have, CLUSTER);
    expect(text(plan.ip)).toEqual(['link del flannel.1']);
    // the same dst moves from flannel.1 to eth0 with one replace, no delete first
    expect(text(plan.ipLast)).toEqual(['route replace 10.244.1.0/24 via 172.30.1.3 dev eth0']);
  });

  it('removes a stale route of a node that left, but never routes outside the cluster CIDR', () => {
    const have: ObservedDataplane = {
      neighbours: [],
      fdb: [],
      routes: [
        cni0Route,
        { dst: '10.244.5.0/24', gateway: '172.30.1.7', dev: 'eth0', onlink: false },
        { dst: '192.168.9.0/24', gateway: '172.30.1.7', dev: 'eth0', onlink: false },
      ],
    };
    const plan = planDataplane(desiredDataplane('host-gw', self, []), have, CLUSTER);
    expect(text(plan.ip)).toEqual(['route del 10.244.5.0/24 via 172.30.1.7 dev eth0']);
  });

  it('backend none leaves hand-made routes alone', () => {
    const have: ObservedDataplane = { neighbours: [], fdb: [], routes: [{ dst: '10.244.5.0/24', gateway: '172.30.1.7', dev: 'eth0', onlink: false }] };
    expect(isEmptyPlan(planDataplane(desiredDataplane('none', self, []), have, CLUSTER, false))).toBe(true);
  });
});
