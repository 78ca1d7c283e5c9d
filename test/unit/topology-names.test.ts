import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultClusterConfig } from '../../src/api/cluster.js';
import { ledgerPath, readLedger, recordResource } from '../../src/cni/topology/ledger.js';
import { clusterVethPrefix, nodeNames, nodeVethName, underlayBridgeName } from '../../src/cni/topology/names.js';
import { isClusterNodeNetns } from '../../src/cni/topology/teardown.js';
import { planUnderlay } from '../../src/cni/topology/underlay.js';

describe('topology names', () => {
  it('bridge: kemu0 for the default cluster, kemu-<C> or a hashed 15-char name otherwise', () => {
    expect(underlayBridgeName('kemu')).toBe('kemu0');
    expect(underlayBridgeName('lab1')).toBe('kemu-lab1');
    const long = underlayBridgeName('networking-course');
    expect(long.length).toBeLessThanOrEqual(15);
    expect(long.startsWith('kemu-netwo-')).toBe(true);
    expect(long).not.toBe(underlayBridgeName('networking-coursf'));
  });

  it('nodes named as kind names them', () => {
    expect(nodeNames('kemu', 3)).toEqual(['kemu-control-plane', 'kemu-worker', 'kemu-worker2', 'kemu-worker3']);
    expect(nodeNames('kemu', 0)).toEqual(['kemu-control-plane']);
  });

  it('veth names fit IFNAMSIZ, are unique per node and share the cluster prefix', () => {
    const a = nodeVethName('kemu', 'kemu-worker');
    const b = nodeVethName('kemu', 'kemu-worker2');
    expect(a).toHaveLength(15);
    expect(a).not.toBe(b);
    expect(a.startsWith(clusterVethPrefix('kemu'))).toBe(true);
    expect(a.startsWith(clusterVethPrefix('kemu2'))).toBe(false);
  });

  it('the sweep pattern matches only this cluster\'s node namespaces', () => {
    expect(isClusterNodeNetns('a', 'a-control-plane')).toBe(true);
    expect(isClusterNodeNetns('a', 'a-worker12')).toBe(true);
    expect(isClusterNodeNetns('a', 'a-b-worker')).toBe(false);
    expect(isClusterNodeNetns('a', 'a-worker-control-plane')).toBe(false);
    expect(isClusterNodeNetns('a.b', 'axb-worker')).toBe(false);
  });

  it('plans addresses: bridge on the first host, nodes from the second', () => {
    const plan = planUnderlay({ ...defaultClusterConfig('t1'), underlayCIDR: '172.30.4.0/24' }, nodeNames('t1', 1));
    expect(plan.bridge).toBe('kemu-t1');
    expect(plan.gateway).toBe('172.30.4.1');
    expect(plan.prefixLength).toBe(24);
    expect(plan.nodes.map((n) => [n.netns, n.ip])).toEqual([
      ['t1-control-plane', '172.30.4.2'],
      ['t1-worker', '172.30.4.3'],
    ]);
    expect(() => planUnderlay({ ...defaultClusterConfig('t1'), underlayCIDR: '172.30.4.0/30' }, nodeNames('t1', 1))).toThrow(/room for 1 nodes/);
  });
});

describe('resource ledger', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });

  it('reads each record once and survives a line torn by a crash', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kemu-ledger-'));
    dirs.push(dir);
    recordResource(dir, { kind: 'netns', name: 'x-worker' });
    recordResource(dir, { kind: 'netns', name: 'x-worker' });
    fs.appendFileSync(ledgerPath(dir), '{"kind":"link","na'); // torn write
    recordResource(dir, { kind: 'link', name: 'veth0', ns: 'x-worker' });
    expect(readLedger(dir)).toEqual([
      { kind: 'netns', name: 'x-worker' },
      { kind: 'link', name: 'veth0', ns: 'x-worker' },
    ]);
  });
});
