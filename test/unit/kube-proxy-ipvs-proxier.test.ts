// The IPVS proxier's sync against in-memory kernels (IpvsModel + RulesetModel): what a first sync
// leaves behind, convergence after an endpoint leaves (graceful termination), repair of changes
// made behind its back, and failure handling.

import { describe, expect, it } from 'vitest';
import { RulesetModel, ruleTarget } from '../../src/proxy/iptables/ruleset.js';
import { IpvsModel } from '../../src/proxy/ipvs/backend.js';
import { IpvsProxier } from '../../src/proxy/ipvs/proxier.js';
import { ipvsConfig, NODE, service, slice } from './kube-proxy-ipvs-fixtures.js';

const VS = '10.96.0.50:80/TCP';

function setup() {
  const ipvs = new IpvsModel();
  const iptables = new RulesetModel();
  const proxier = new IpvsProxier(ipvsConfig(), ipvs, iptables);
  const web = service('web', {});
  const eps = slice('web', [{ ip: '10.244.1.2', node: NODE }, { ip: '10.244.2.7' }]);
  proxier.onServiceAdd(web);
  proxier.onEndpointSliceAdd(eps);
  return { ipvs, iptables, proxier, web, eps };
}

const servers = (ipvs: IpvsModel) => ipvs.services.get(VS)?.realServers.map((r) => `${r.address}:${r.port} w${r.weight}`);

describe('IPVS proxier', () => {
  it('programs kube-ipvs0, the sets, the chains with their base jumps, and the virtual server in one sync', async () => {
    const { ipvs, iptables, proxier } = setup();
    const result = await proxier.sync();
    expect(result).toMatchObject({ ok: true, fullSync: true, draining: [] });
    expect(ipvs.dummyExists).toBe(true);
    expect([...ipvs.dummy]).toEqual(['10.96.0.50/32']);
    expect(ipvs.sets.get('KUBE-CLUSTER-IP')?.members).toEqual(['10.96.0.50,tcp:80']);
    expect(servers(ipvs)).toEqual(['10.244.1.2:8080 w1', '10.244.2.7:8080 w1']);
    expect((iptables.rules('nat', 'PREROUTING') ?? []).map(ruleTarget)).toEqual(['KUBE-SERVICES']);
    expect((iptables.rules('filter', 'INPUT') ?? []).map(ruleTarget)).toEqual(['KUBE-IPVS-FILTER', 'KUBE-PROXY-FIREWALL', 'KUBE-NODE-PORT']);
    expect((iptables.rules('filter', 'OUTPUT') ?? []).map(ruleTarget)).toEqual(['KUBE-IPVS-OUT-FILTER']);
    expect(iptables.rules('nat', 'KUBE-MARK-MASQ')).toEqual(['-A KUBE-MARK-MASQ -j MARK --or-mark 0x00004000']);
  });

  it('drains a removed endpoint that still has connections, and a drain check deletes it once they are gone', async () => {
    const { ipvs, proxier, eps } = setup();
    await proxier.sync();
    ipvs.setConnections(VS, '10.244.2.7:8080', 1, 4);
    proxier.onEndpointSliceUpdate(eps, slice('web', [{ ip: '10.244.1.2', node: NODE }]));
    const second = await proxier.sync();
    expect(second.draining).toEqual([`${VS}/10.244.2.7:8080`]);
    expect(second.fullSync).toBe(false);
    expect(servers(ipvs)).toEqual(['10.244.1.2:8080 w1', '10.244.2.7:8080 w0']);
    expect(await proxier.deleteDrained()).toEqual([`${VS}/10.244.2.7:8080`]);
    ipvs.setConnections(VS, '10.244.2.7:8080', 0, 0);
    expect(await proxier.deleteDrained()).toEqual([]);
    expect(servers(ipvs)).toEqual(['10.244.1.2:8080 w1']);
  });

  it('removes a deleted Service: virtual server, kube-ipvs0 address and set members', async () => {
    const { ipvs, proxier, web } = setup();
    await proxier.sync();
    proxier.onServiceDelete(web);
    expect((await proxier.sync()).ok).toBe(true);
    expect(ipvs.services.size).toBe(0);
    expect(ipvs.dummy.size).toBe(0);
    expect(ipvs.sets.get('KUBE-CLUSTER-IP')?.members).toEqual([]);
    expect(ipvs.sets.get('KUBE-IPVS-IPS')?.members).toEqual([]);
  });

  it('repairs what was changed behind its back on the next sync', async () => {
    const { ipvs, proxier } = setup();
    await proxier.sync();
    ipvs.services.delete(VS);
    ipvs.dummy.clear();
    ipvs.sets.get('KUBE-CLUSTER-IP')!.members = ['10.96.9.9,tcp:1'];
    await proxier.sync();
    expect(servers(ipvs)).toEqual(['10.244.1.2:8080 w1', '10.244.2.7:8080 w1']);
    expect([...ipvs.dummy]).toEqual(['10.96.0.50/32']);
    expect(ipvs.sets.get('KUBE-CLUSTER-IP')?.members).toEqual(['10.96.0.50,tcp:80']);
  });

  it('counts an iptables-restore failure and makes the next sync a full one', async () => {
    const { iptables, proxier } = setup();
    iptables.restore = async () => {
      throw new Error('iptables-restore: line 3 failed');
    };
    const failed = await proxier.sync();
    expect(failed.ok).toBe(false);
    expect(failed.error?.message).toContain('line 3 failed');
    expect(proxier.metrics().sync_proxy_rules_iptables_restore_failures_total).toBe(1);
    expect(proxier.metrics().sync_proxy_rules_last_timestamp_seconds).toBe(0);
    delete (iptables as Partial<RulesetModel>).restore;
    const next = await proxier.sync();
    expect(next).toMatchObject({ ok: true, fullSync: true });
  });
});
