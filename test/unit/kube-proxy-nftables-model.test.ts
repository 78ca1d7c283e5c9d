// The in-memory nft table (atomic transactions, kernel-like refusals) and the proxier's recovery
// from a failed transaction.

import { describe, expect, it } from 'vitest';
import { modelBackend, type NftablesBackend } from '../../src/proxy/nftables/backend.js';
import { NftablesProxier } from '../../src/proxy/nftables/proxier.js';
import { NftError, NftTableModel, parseAddCommands } from '../../src/proxy/nftables/table.js';
import { clusterIPService, serviceSlice } from './kube-proxy-cases.js';

const service = clusterIPService('ns1', 'svc1', '172.30.0.41', 'p80', 80);
const slice = serviceSlice('ns1', 'svc1', ['10.180.0.1'], 'p80', 80);
const config = {
  ipFamily: 'IPv4' as const,
  nodeName: 'test-node',
  nodeIP: '192.168.0.2',
  masqueradeAll: false,
  masqueradeMark: '0x4000',
  clusterCIDR: '10.0.0.0/8',
  hostAddresses: ['192.168.0.2/24'],
  serviceCIDRs: ['172.30.0.0/16'],
  syncPeriodMs: 30_000,
};

describe('nftables table model', () => {
  it('applies a transaction all or nothing', () => {
    const table = new NftTableModel();
    table.load('add table ip kube-proxy\nadd chain ip kube-proxy a\nadd rule ip kube-proxy a drop\n');
    const before = table.dump();
    expect(() =>
      table.run([
        { verb: 'flush', object: { kind: 'chain', name: 'a' } },
        { verb: 'add', object: { kind: 'rule', chain: 'missing', rule: 'drop' } },
      ]),
    ).toThrow(NftError);
    expect(table.dump()).toBe(before);
    expect(table.chainRules('a')).toEqual(['drop']);
  });

  it('refuses to delete a chain that still has rules or is jumped to', () => {
    const table = new NftTableModel();
    table.load('add table ip kube-proxy\nadd chain ip kube-proxy a\nadd chain ip kube-proxy b\nadd rule ip kube-proxy a goto b\n');
    expect(() => table.run([{ verb: 'delete', object: { kind: 'chain', name: 'a' } }])).toThrow(/not empty/);
    expect(() => table.run([{ verb: 'delete', object: { kind: 'chain', name: 'b' } }])).toThrow(/in use/);
    table.run([
      { verb: 'flush', object: { kind: 'chain', name: 'a' } },
      { verb: 'delete', object: { kind: 'chain', name: 'b' } },
    ]);
    expect(table.chainNames()).toEqual(['a']);
  });

  it('parses elements with comments and verdicts back from a dump', () => {
    const [op] = parseAddCommands('add element ip kube-proxy no-endpoint-services { 172.30.0.46 . tcp . 80 comment "ns6/svc6:p80" : goto reject-chain }');
    expect(op!.object).toEqual({ kind: 'element', set: 'no-endpoint-services', key: '172.30.0.46 . tcp . 80', comment: 'ns6/svc6:p80', value: 'goto reject-chain' });
  });
});

describe('nftables proxier', () => {
  it('counts a failed transaction and recovers with a full sync', async () => {
    const table = new NftTableModel();
    const real = modelBackend(table);
    let failNext = false;
    const backend: NftablesBackend = {
      ...real,
      run: async (ops) => {
        if (failNext) {
          failNext = false;
          throw new NftError('injected');
        }
        await real.run(ops);
      },
    };
    const proxier = new NftablesProxier(config, backend, () => 0);
    expect((await proxier.sync()).fullSync).toBe(true);
    proxier.onServiceAdd(service);
    proxier.onEndpointSliceAdd(slice);
    failNext = true;
    const failed = await proxier.sync();
    expect(failed.ok).toBe(false);
    expect(failed.fullSync).toBe(false);
    expect(proxier.metrics().sync_proxy_rules_nftables_sync_failures_total).toBe(1);
    const retried = await proxier.sync();
    expect(retried).toMatchObject({ ok: true, fullSync: true });
    expect(table.elements('service-ips')).toEqual([{ key: '172.30.0.41 . tcp . 80', value: 'goto service-ULMVA6XW-ns1/svc1/tcp/p80' }]);
  });
});
