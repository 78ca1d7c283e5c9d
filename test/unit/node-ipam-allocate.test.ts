import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultClusterConfig } from '../../src/api/cluster.js';
import { RESOURCES, type ResourceType } from '../../src/api/resources.js';
import type { Node } from '../../src/api/types.js';
import { chooseNodeSubnet, firstFreeSubnet, indexedSubnet, NODE_INDEX_ANNOTATION, startNodeIpamController, usedNodeSubnets } from '../../src/controllers/node-ipam.js';
import { ApiFixture } from './support/api-fixture.js';

const NODES = RESOURCES.find((r) => r.kind === 'Node') as ResourceType;

const node = (name: string, podCIDR?: string): Node => ({ apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: podCIDR ? { podCIDR, podCIDRs: [podCIDR] } : {} });

describe('node subnet allocation (pure)', () => {
  it('hands out /24s from the start of the cluster CIDR, skipping used ones', () => {
    expect(firstFreeSubnet('10.244.0.0/16', [])).toBe('10.244.0.0/24');
    expect(firstFreeSubnet('10.244.0.0/16', ['10.244.0.0/24', '10.244.2.0/24'])).toBe('10.244.1.0/24');
  });

  it('treats larger used blocks as overlapping every /24 inside them', () => {
    expect(firstFreeSubnet('10.244.0.0/16', ['10.244.0.0/23'])).toBe('10.244.2.0/24');
  });

  it('reports a full cluster CIDR and one smaller than a node subnet', () => {
    expect(firstFreeSubnet('10.244.0.0/23', ['10.244.0.0/24', '10.244.1.0/24'])).toBeUndefined();
    expect(() => firstFreeSubnet('10.244.0.0/25', [])).toThrow(/smaller than one \/24/);
  });

  it('counts only podCIDRs inside the cluster CIDR', () => {
    expect(usedNodeSubnets('10.244.0.0/16', [node('a', '10.244.3.0/24'), node('b', '192.168.0.0/24'), node('c')])).toEqual(['10.244.3.0/24']);
  });
});

const indexed = (name: string, index: string, podCIDR?: string): Node => {
  const n = node(name, podCIDR);
  n.metadata.annotations = { [NODE_INDEX_ANNOTATION]: index };
  return n;
};

describe('indexed node subnets (pure)', () => {
  it('maps an index to the subnet of that number inside the cluster CIDR', () => {
    expect(indexedSubnet('10.244.0.0/16', 0)).toBe('10.244.0.0/24');
    expect(indexedSubnet('10.244.0.0/16', 2)).toBe('10.244.2.0/24');
    expect(indexedSubnet('10.244.0.0/23', 2)).toBeUndefined();
  });

  it('gives an indexed node its own subnet even when it comes first', () => {
    const worker2 = indexed('c-worker2', '2');
    expect(chooseNodeSubnet('10.244.0.0/16', worker2, [worker2], [])).toBe('10.244.2.0/24');
  });

  it('keeps other indexed nodes\' subnets free for them when picking for an unindexed node', () => {
    const waiting = [indexed('c-control-plane', '0'), indexed('c-worker', '1')];
    const extra = node('extra');
    expect(chooseNodeSubnet('10.244.0.0/16', extra, [...waiting, extra], [])).toBe('10.244.2.0/24');
  });

  it('falls back to the first free subnet when its indexed one is taken', () => {
    const squatter = node('extra', '10.244.1.0/24');
    const worker = indexed('c-worker', '1');
    expect(chooseNodeSubnet('10.244.0.0/16', worker, [squatter, worker], ['10.244.0.0/24'])).toBe('10.244.2.0/24');
  });

  it('ignores an index that is not a number', () => {
    const odd = indexed('odd', 'two');
    expect(chooseNodeSubnet('10.244.0.0/16', odd, [odd], ['10.244.0.0/24'])).toBe('10.244.1.0/24');
  });
});

describe('node IPAM controller', () => {
  let api: ApiFixture;
  beforeEach(async () => {
    api = await ApiFixture.start();
  });
  afterEach(async () => {
    await api.close();
  });

  const podCIDRs = async () => {
    const list = await api.client.list<Node>(NODES);
    return Object.fromEntries(list.items.map((n) => [n.metadata.name, n.spec?.podCIDR]));
  };

  it('assigns the first free /24 to each node, keeps them over a restart and reuses a deleted node\'s', async () => {
    const config = defaultClusterConfig('test');
    for (const n of ['t-control-plane', 't-worker', 't-worker2']) await api.client.create(NODES, undefined, node(n));
    let ipam = await startNodeIpamController(api.client, config, () => {});
    let seen: Record<string, string | undefined> = {};
    const poll = async (want: number) => {
      const until = Date.now() + 5000;
      for (;;) {
        seen = await podCIDRs();
        if (Object.values(seen).filter(Boolean).length >= want || Date.now() > until) return;
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    await poll(3);
    expect(seen).toEqual({ 't-control-plane': '10.244.0.0/24', 't-worker': '10.244.1.0/24', 't-worker2': '10.244.2.0/24' });
    const worker = await api.client.get<Node>(NODES, undefined, 't-worker');
    expect(worker.spec?.podCIDRs).toEqual(['10.244.1.0/24']);

    // restart: nothing remembered but the Nodes, so a new node gets the next free one
    await ipam.stop();
    await api.client.delete(NODES, undefined, 't-worker');
    ipam = await startNodeIpamController(api.client, config, () => {});
    await api.client.create(NODES, undefined, node('t-worker3'));
    await poll(3);
    expect(seen['t-worker3']).toBe('10.244.1.0/24');
    expect(seen['t-worker2']).toBe('10.244.2.0/24');
    await ipam.stop();
  });

  it('gives indexed nodes the subnet of their index whatever order they register in', async () => {
    const ipam = await startNodeIpamController(api.client, defaultClusterConfig('test'), () => {});
    for (const [name, index] of [['k-worker2', '2'], ['k-worker', '1'], ['k-control-plane', '0']] as const) {
      await api.client.create(NODES, undefined, indexed(name, index));
    }
    const until = Date.now() + 5000;
    let seen: Record<string, string | undefined> = {};
    while (Date.now() < until) {
      seen = await podCIDRs();
      if (Object.values(seen).filter(Boolean).length === 3) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(seen).toEqual({ 'k-control-plane': '10.244.0.0/24', 'k-worker': '10.244.1.0/24', 'k-worker2': '10.244.2.0/24' });
    await ipam.stop();
  });
});
