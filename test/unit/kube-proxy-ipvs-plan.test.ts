// From kernel state to IPVS operations (graceful termination included), kube-ipvs0 address
// changes and ipset changes; and their text for ipvsadm -R / ipset restore, and the parsers of
// `ipvsadm -Ln` and `ipset save` output.

import { describe, expect, it } from 'vitest';
import { planAddresses, planIpsets, planIpvs } from '../../src/proxy/ipvs/plan.js';
import type { VirtualServer } from '../../src/proxy/ipvs/state.js';
import { ipsetRestoreText, parseIpsetSave } from '../../src/sys/ipset.js';
import { ipvsadmLine, parseIpvsadmList } from '../../src/sys/ipvs.js';

const vs = (servers: VirtualServer['realServers'], over: Partial<VirtualServer> = {}): VirtualServer => ({
  address: '10.96.0.50',
  port: 80,
  protocol: 'TCP',
  scheduler: 'rr',
  realServers: servers,
  ...over,
});
const rs = (address: string, weight = 1, active = 0, inactive = 0) => ({ address, port: 8080, weight, activeConns: active, inactiveConns: inactive });
const want = (address: string) => ({ address, port: 8080, weight: 1 });
const ref = { address: '10.96.0.50', port: 80, protocol: 'TCP' as const };

describe('planIpvs', () => {
  it('adds a missing virtual server and its real servers, and nothing when all is in place', () => {
    const desired = [vs([want('10.244.1.2'), want('10.244.2.7')])];
    expect(planIpvs([], desired).ops.map((o) => o.op)).toEqual(['add-service', 'add-server', 'add-server']);
    expect(planIpvs([vs([rs('10.244.1.2'), rs('10.244.2.7')])], desired)).toEqual({ ops: [], draining: [] });
  });

  it('edits a virtual server whose scheduler or persistence changed, and deletes one no longer wanted', () => {
    const edit = planIpvs([vs([], { scheduler: 'rr' })], [vs([], { scheduler: 'rr', persistentTimeoutSeconds: 600 })]);
    expect(edit.ops).toEqual([{ op: 'edit-service', service: { ...ref, scheduler: 'rr', persistentTimeoutSeconds: 600 } }]);
    expect(planIpvs([vs([rs('10.244.1.2')])], []).ops).toEqual([{ op: 'delete-service', service: { ...ref, scheduler: 'rr' } }]);
  });

  it('deletes a removed TCP real server at once when it has no connections', () => {
    const plan = planIpvs([vs([rs('10.244.1.2'), rs('10.244.2.7')])], [vs([want('10.244.1.2')])]);
    expect(plan.ops).toEqual([{ op: 'delete-server', service: { ...ref, scheduler: 'rr' }, server: { address: '10.244.2.7', port: 8080 } }]);
    expect(plan.draining).toEqual([]);
  });

  it('drains a removed TCP real server with connections: weight 0 first, deleted once its counts reach 0', () => {
    const desired = [vs([want('10.244.1.2')])];
    const first = planIpvs([vs([rs('10.244.1.2'), rs('10.244.2.7', 1, 2, 5)])], desired);
    expect(first.ops).toEqual([{ op: 'edit-server', service: { ...ref, scheduler: 'rr' }, server: { address: '10.244.2.7', port: 8080, weight: 0 } }]);
    expect(first.draining).toEqual(['10.96.0.50:80/TCP/10.244.2.7:8080']);
    // still draining: nothing more to do
    expect(planIpvs([vs([rs('10.244.1.2'), rs('10.244.2.7', 0, 0, 3)])], desired).ops).toEqual([]);
    // drained
    expect(planIpvs([vs([rs('10.244.1.2'), rs('10.244.2.7', 0, 0, 0)])], desired).ops.map((o) => o.op)).toEqual(['delete-server']);
  });

  it('deletes a removed UDP real server at once even with connections', () => {
    const udp = { protocol: 'UDP' as const };
    const plan = planIpvs([vs([rs('10.244.2.7', 1, 0, 9)], udp)], [vs([], udp)]);
    expect(plan.ops.map((o) => o.op)).toEqual(['delete-server']);
  });

  it('gives a draining real server its weight back when it is wanted again', () => {
    const plan = planIpvs([vs([rs('10.244.2.7', 0, 1, 1)])], [vs([want('10.244.2.7')])]);
    expect(plan.ops).toEqual([{ op: 'edit-server', service: { ...ref, scheduler: 'rr' }, server: want('10.244.2.7') }]);
  });
});

describe('planAddresses and planIpsets', () => {
  it('adds missing and removes stale kube-ipvs0 addresses', () => {
    expect(planAddresses(['10.96.0.1/32', '10.96.0.9/32'], ['10.96.0.1/32', '10.96.0.50/32'])).toEqual({ add: ['10.96.0.50/32'], del: ['10.96.0.9/32'] });
  });

  it('creates every missing set and changes only the members that differ', () => {
    const first = planIpsets(new Map(), new Map([['KUBE-CLUSTER-IP', ['10.96.0.50,tcp:80']]]), 'inet');
    expect(first.filter((o) => o.op === 'create')).toHaveLength(17);
    expect(first.filter((o) => o.op !== 'create')).toEqual([{ op: 'add', set: 'KUBE-CLUSTER-IP', member: '10.96.0.50,tcp:80' }]);
    const current = parseIpsetSave(
      [
        ...first.filter((o) => o.op === 'create').map((o) => `create ${o.set} ${o.op === 'create' ? o.type : ''} family inet`),
        'add KUBE-CLUSTER-IP 10.96.0.9,tcp:53',
        'add KUBE-LOAD-BALANCER-SOURCE-CIDR 1.2.3.4,tcp:80,10.0.0.1',
        'create OTHER-SET hash:ip family inet',
        'add OTHER-SET 1.1.1.1',
      ].join('\n'),
    );
    expect(current.has('OTHER-SET')).toBe(false);
    const next = planIpsets(
      current,
      new Map([
        ['KUBE-CLUSTER-IP', ['10.96.0.50,tcp:80']],
        ['KUBE-LOAD-BALANCER-SOURCE-CIDR', ['1.2.3.4,tcp:80,10.0.0.1/32']],
      ]),
      'inet',
    );
    expect(next).toEqual([
      { op: 'add', set: 'KUBE-CLUSTER-IP', member: '10.96.0.50,tcp:80' },
      { op: 'del', set: 'KUBE-CLUSTER-IP', member: '10.96.0.9,tcp:53' },
    ]);
  });
});

describe('ipvsadm and ipset text', () => {
  it('writes ipvsadm -R lines with masquerading real servers and persistence', () => {
    const svc = { ...ref, scheduler: 'rr', persistentTimeoutSeconds: 10800 };
    expect(ipvsadmLine({ op: 'add-service', service: svc })).toBe('-A -t 10.96.0.50:80 -s rr -p 10800');
    expect(ipvsadmLine({ op: 'edit-service', service: { ...ref, protocol: 'UDP', scheduler: 'lc' } })).toBe('-E -u 10.96.0.50:80 -s lc');
    expect(ipvsadmLine({ op: 'add-server', service: ref, server: want('10.244.1.2') })).toBe('-a -t 10.96.0.50:80 -r 10.244.1.2:8080 -m -w 1');
    expect(ipvsadmLine({ op: 'edit-server', service: ref, server: { ...want('10.244.1.2'), weight: 0 } })).toBe('-e -t 10.96.0.50:80 -r 10.244.1.2:8080 -m -w 0');
    expect(ipvsadmLine({ op: 'delete-server', service: ref, server: want('10.244.1.2') })).toBe('-d -t 10.96.0.50:80 -r 10.244.1.2:8080');
    expect(ipvsadmLine({ op: 'delete-service', service: { ...ref, protocol: 'SCTP' } })).toBe('-D --sctp-service 10.96.0.50:80');
  });

  it('reads virtual servers, persistence, weights and connection counts from ipvsadm -Ln', () => {
    const text = [
      'IP Virtual Server version 1.2.1 (size=4096)',
      'Prot LocalAddress:Port Scheduler Flags',
      '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
      'TCP  10.96.0.50:80 rr persistent 600',
      '  -> 10.244.1.2:8080              Masq    1      3          0',
      '  -> 10.244.2.7:8080              Masq    0      0          12',
      'UDP  10.96.0.10:53 lc',
      '',
    ].join('\n');
    expect(parseIpvsadmList(text)).toEqual([
      vs([rs('10.244.1.2', 1, 3, 0), rs('10.244.2.7', 0, 0, 12)], { persistentTimeoutSeconds: 600 }),
      { address: '10.96.0.10', port: 53, protocol: 'UDP', scheduler: 'lc', realServers: [] },
    ]);
  });

  it('writes ipset restore text with upstream create options and -exist', () => {
    expect(
      ipsetRestoreText([
        { op: 'create', set: 'KUBE-NODE-PORT-TCP', type: 'bitmap:port', family: 'inet' },
        { op: 'create', set: 'KUBE-CLUSTER-IP', type: 'hash:ip,port', family: 'inet' },
        { op: 'add', set: 'KUBE-CLUSTER-IP', member: '10.96.0.50,tcp:80' },
        { op: 'del', set: 'KUBE-NODE-PORT-TCP', member: '30080' },
      ]),
    ).toBe(
      [
        'create KUBE-NODE-PORT-TCP bitmap:port range 0-65535 -exist',
        'create KUBE-CLUSTER-IP hash:ip,port family inet hashsize 1024 maxelem 65536 -exist',
        'add KUBE-CLUSTER-IP 10.96.0.50,tcp:80 -exist',
        'del KUBE-NODE-PORT-TCP 30080 -exist',
        '',
      ].join('\n'),
    );
  });
});
