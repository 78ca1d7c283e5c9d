// IPVS mode's desired state (pkg/proxy/ipvs syncProxyRules + writeIptablesRules), with expected
// values worked out by hand from the research note's IPVS sections: kube-ipvs0 addresses, one
// virtual server per VIP/port (NodePorts per node address), real servers, ipset members and the
// constant iptables text.

import { describe, expect, it } from 'vitest';
import { buildDesiredState } from '../../src/proxy/ipvs/builder.js';
import { resolveConfig } from '../../src/proxy/ipvs/config.js';
import { RulesetModel } from '../../src/proxy/iptables/ruleset.js';
import { buildInput, ipvsConfig, NODE, service, slice } from './kube-proxy-ipvs-fixtures.js';

const build = (input: ReturnType<typeof buildInput>, over: Parameters<typeof ipvsConfig>[0] = {}) =>
  buildDesiredState(input, resolveConfig(ipvsConfig(over)));

const webOnly = () => buildInput([service('web', {})], [slice('web', [{ ip: '10.244.1.2', node: NODE }, { ip: '10.244.2.7' }])]);

describe('IPVS desired state for a ClusterIP Service', () => {
  it('binds the ClusterIP to kube-ipvs0 and makes one rr virtual server with a real server per endpoint', () => {
    const out = build(webOnly());
    expect(out.dummyAddresses).toEqual(['10.96.0.50/32']);
    expect(out.virtualServers).toEqual([
      {
        address: '10.96.0.50',
        port: 80,
        protocol: 'TCP',
        scheduler: 'rr',
        realServers: [
          { address: '10.244.1.2', port: 8080, weight: 1 },
          { address: '10.244.2.7', port: 8080, weight: 1 },
        ],
      },
    ]);
  });

  it('fills KUBE-CLUSTER-IP, KUBE-IPVS-IPS and (for the local endpoint only) KUBE-LOOP-BACK', () => {
    const sets = build(webOnly()).ipsets;
    expect(sets.get('KUBE-CLUSTER-IP')).toEqual(['10.96.0.50,tcp:80']);
    expect(sets.get('KUBE-IPVS-IPS')).toEqual(['10.96.0.50']);
    expect(sets.get('KUBE-LOOP-BACK')).toEqual(['10.244.1.2,tcp:8080,10.244.1.2']);
    expect(sets.get('KUBE-NODE-PORT-TCP')).toEqual([]);
    expect(sets.size).toBe(17);
  });

  it('writes the constant nat and filter chains, masquerading off-cluster sources to ClusterIPs', () => {
    const text = build(webOnly()).iptablesRestore;
    expect(text).toBe(
      [
        '*nat',
        ':KUBE-SERVICES - [0:0]',
        ':KUBE-POSTROUTING - [0:0]',
        ':KUBE-NODE-PORT - [0:0]',
        ':KUBE-LOAD-BALANCER - [0:0]',
        ':KUBE-MARK-MASQ - [0:0]',
        '-A KUBE-SERVICES -s 127.0.0.0/8 -j RETURN',
        '-A KUBE-POSTROUTING -m comment --comment "Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose" -m set --match-set KUBE-LOOP-BACK dst,dst,src -j MASQUERADE',
        '-A KUBE-SERVICES -m comment --comment "Kubernetes service cluster ip + port for masquerade purpose" -m set --match-set KUBE-CLUSTER-IP dst,dst ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ',
        '-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODE-PORT',
        '-A KUBE-LOAD-BALANCER -j KUBE-MARK-MASQ',
        '-A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT',
        '-A KUBE-POSTROUTING -m mark ! --mark 0x00004000/0x00004000 -j RETURN',
        '-A KUBE-POSTROUTING -j MARK --xor-mark 0x00004000',
        '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
        '-A KUBE-MARK-MASQ -j MARK --or-mark 0x00004000',
        'COMMIT',
        '*filter',
        ':KUBE-FORWARD - [0:0]',
        ':KUBE-NODE-PORT - [0:0]',
        ':KUBE-PROXY-FIREWALL - [0:0]',
        ':KUBE-SOURCE-RANGES-FIREWALL - [0:0]',
        ':KUBE-IPVS-FILTER - [0:0]',
        ':KUBE-IPVS-OUT-FILTER - [0:0]',
        '-A KUBE-SOURCE-RANGES-FIREWALL -j DROP',
        '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x00004000/0x00004000 -j ACCEPT',
        '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
        '-A KUBE-NODE-PORT -m comment --comment "Kubernetes health check node port" -m set --match-set KUBE-HEALTH-CHECK-NODE-PORT dst -j ACCEPT',
        '-A KUBE-IPVS-FILTER -m set --match-set KUBE-LOAD-BALANCER dst,dst -j RETURN',
        '-A KUBE-IPVS-FILTER -m set --match-set KUBE-CLUSTER-IP dst,dst -j RETURN',
        '-A KUBE-IPVS-FILTER -m set --match-set KUBE-EXTERNAL-IP dst,dst -j RETURN',
        '-A KUBE-IPVS-FILTER -m set --match-set KUBE-EXTERNAL-IP-LOCAL dst,dst -j RETURN',
        '-A KUBE-IPVS-FILTER -m set --match-set KUBE-HEALTH-CHECK-NODE-PORT dst -j RETURN',
        '-A KUBE-IPVS-FILTER -m conntrack --ctstate NEW -m set --match-set KUBE-IPVS-IPS dst -j REJECT',
        'COMMIT',
        '',
      ].join('\n'),
    );
    // and it is a valid --noflush restore: every jump target exists
    expect(() => new RulesetModel().applyRestore(text)).not.toThrow();
  });

  it('masquerades every ClusterIP connection with masqueradeAll, and node-originated VIP sources without a detector', () => {
    const all = build(webOnly(), { masqueradeAll: true }).iptablesRestore;
    expect(all).toContain('--match-set KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ\n');
    const none = build(webOnly(), { clusterCIDR: undefined }).iptablesRestore;
    expect(none).toContain('--match-set KUBE-CLUSTER-IP src,dst -j KUBE-MARK-MASQ\n');
  });

  it('makes ClientIP affinity a persistent virtual server with the affinity timeout', () => {
    const custom = build(
      buildInput(
        [service('web', { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } } })],
        [slice('web', [{ ip: '10.244.2.7' }])],
      ),
    );
    expect(custom.virtualServers[0]!.persistentTimeoutSeconds).toBe(600);
    const defaulted = build(buildInput([service('web', { sessionAffinity: 'ClientIP' })], []));
    expect(defaulted.virtualServers[0]!.persistentTimeoutSeconds).toBe(10800);
    expect(build(webOnly()).virtualServers[0]).not.toHaveProperty('persistentTimeoutSeconds');
  });

  it('uses the configured scheduler', () => {
    expect(build(webOnly(), { scheduler: 'lc' }).virtualServers.map((v) => v.scheduler)).toEqual(['lc']);
  });

  it('keeps a Service without endpoints as a virtual server with no real servers', () => {
    const out = build(buildInput([service('web', {})], []));
    expect(out.virtualServers.map((v) => v.realServers)).toEqual([[]]);
    expect(out.ipsets.get('KUBE-LOOP-BACK')).toEqual([]);
    expect(out.iptablesRestore).not.toContain('KUBE-LOOP-BACK');
  });

  it('leaves not-ready endpoints out, and falls back to serving terminating ones when none is ready', () => {
    const mixed = build(buildInput([service('web', {})], [slice('web', [{ ip: '10.244.2.7', ready: false, serving: false }, { ip: '10.244.2.8' }])]));
    expect(mixed.virtualServers[0]!.realServers.map((r) => r.address)).toEqual(['10.244.2.8']);
    const terminating = build(
      buildInput([service('web', {})], [slice('web', [{ ip: '10.244.2.7', ready: false, serving: true, terminating: true }, { ip: '10.244.2.9', ready: false, serving: false }])]),
    );
    expect(terminating.virtualServers[0]!.realServers.map((r) => r.address)).toEqual(['10.244.2.7']);
  });

  it('gives internalTrafficPolicy Local only the local real servers and counts a Service with none', () => {
    const eps = [{ ip: '10.244.1.2', node: NODE }, { ip: '10.244.2.7' }];
    const local = build(buildInput([service('web', { internalTrafficPolicy: 'Local' })], [slice('web', eps)]));
    expect(local.virtualServers[0]!.realServers.map((r) => r.address)).toEqual(['10.244.1.2']);
    const none = build(buildInput([service('web', { internalTrafficPolicy: 'Local' })], [slice('web', [{ ip: '10.244.2.7' }])]));
    expect(none.virtualServers[0]!.realServers).toEqual([]);
    expect(none.noLocalEndpoints).toEqual({ internal: 1, external: 0 });
  });
});

describe('IPVS desired state for NodePorts, externalIPs and load balancers', () => {
  const nodePort = (spec: Parameters<typeof service>[1] = {}, protocol: 'TCP' | 'UDP' = 'TCP') =>
    buildInput(
      [service('np', { type: 'NodePort', ports: [{ name: 'http', port: 80, protocol, nodePort: 30080 }], ...spec })],
      [slice('np', [{ ip: '10.244.1.2', node: NODE }, { ip: '10.244.2.7' }], 8080, protocol)],
    );

  it('makes one virtual server per node address (loopback left out), not bound to kube-ipvs0', () => {
    const out = build(nodePort());
    expect(out.virtualServers.map((v) => `${v.address}:${v.port}`)).toEqual(['10.96.0.50:80', '172.18.0.2:30080', '192.168.7.4:30080']);
    expect(out.dummyAddresses).toEqual(['10.96.0.50/32']);
    expect(out.ipsets.get('KUBE-NODE-PORT-TCP')).toEqual(['30080']);
    expect(out.ipsets.get('KUBE-NODE-PORT-LOCAL-TCP')).toEqual([]);
    expect(out.iptablesRestore).toContain(
      '-A KUBE-NODE-PORT -p tcp -m comment --comment "Kubernetes nodeport TCP port for masquerade purpose" -m set --match-set KUBE-NODE-PORT-TCP dst -j KUBE-MARK-MASQ',
    );
  });

  it('serves NodePorts only on the addresses inside --nodeport-addresses', () => {
    const out = build(nodePort(), { nodePortAddresses: ['192.168.0.0/16'] });
    expect(out.virtualServers.map((v) => v.address)).toEqual(['10.96.0.50', '192.168.7.4']);
  });

  it('puts UDP NodePorts in the UDP set', () => {
    const out = build(nodePort({}, 'UDP'));
    expect(out.ipsets.get('KUBE-NODE-PORT-UDP')).toEqual(['30080']);
    expect(out.ipsets.get('KUBE-NODE-PORT-TCP')).toEqual([]);
    expect(out.ipsets.get('KUBE-CLUSTER-IP')).toEqual(['10.96.0.50,udp:80']);
  });

  it('with externalTrafficPolicy Local: local real servers on the NodePort, all on the ClusterIP, and RETURN before masquerade', () => {
    const out = build(nodePort({ externalTrafficPolicy: 'Local' }));
    const byAddress = new Map(out.virtualServers.map((v) => [v.address, v.realServers.map((r) => r.address)]));
    expect(byAddress.get('10.96.0.50')).toEqual(['10.244.1.2', '10.244.2.7']);
    expect(byAddress.get('172.18.0.2')).toEqual(['10.244.1.2']);
    expect(out.ipsets.get('KUBE-NODE-PORT-LOCAL-TCP')).toEqual(['30080']);
    const nodePortRules = out.iptablesRestore.split('\n').filter((l) => l.startsWith('-A KUBE-NODE-PORT ') && l.includes('-p tcp'));
    expect(nodePortRules.map((l) => l.split(' ').at(-1))).toEqual(['RETURN', 'KUBE-MARK-MASQ']);
  });

  it('binds externalIPs to kube-ipvs0 and masquerades and accepts traffic to them', () => {
    const out = build(buildInput([service('ext', { externalIPs: ['203.0.113.9'] })], [slice('ext', [{ ip: '10.244.2.7' }])]));
    expect(out.dummyAddresses).toEqual(['10.96.0.50/32', '203.0.113.9/32']);
    expect(out.ipsets.get('KUBE-EXTERNAL-IP')).toEqual(['203.0.113.9,tcp:80']);
    expect(out.ipsets.get('KUBE-IPVS-IPS')).toEqual(['10.96.0.50', '203.0.113.9']);
    const rules = out.iptablesRestore.split('\n').filter((l) => l.includes('--match-set KUBE-EXTERNAL-IP dst,dst') && l.startsWith('-A KUBE-SERVICES'));
    expect(rules.map((l) => l.split(' -j ')[1])).toEqual(['KUBE-MARK-MASQ', 'ACCEPT', 'ACCEPT']);
  });

  const lb = (ranges: string[]) =>
    buildInput(
      [
        service(
          'lb',
          { type: 'LoadBalancer', ports: [{ name: 'http', port: 80, protocol: 'TCP', nodePort: 31000 }], loadBalancerSourceRanges: ranges },
          { status: { loadBalancer: { ingress: [{ ip: '198.51.100.7' }] } } },
        ),
      ],
      [slice('lb', [{ ip: '10.244.2.7' }])],
    );

  it('programs an LB IP with source ranges through the FW and SOURCE-CIDR sets; the node is let in when a range covers it', () => {
    const out = build(lb(['172.18.0.0/16', '203.0.113.0/24']));
    expect(out.dummyAddresses).toContain('198.51.100.7/32');
    expect(out.ipsets.get('KUBE-LOAD-BALANCER')).toEqual(['198.51.100.7,tcp:80']);
    expect(out.ipsets.get('KUBE-LOAD-BALANCER-FW')).toEqual(['198.51.100.7,tcp:80']);
    expect(out.ipsets.get('KUBE-LOAD-BALANCER-SOURCE-CIDR')).toEqual(['198.51.100.7,tcp:80,172.18.0.0/16', '198.51.100.7,tcp:80,203.0.113.0/24']);
    expect(out.ipsets.get('KUBE-LOAD-BALANCER-SOURCE-IP')).toEqual(['198.51.100.7,tcp:80,198.51.100.7']);
    expect(out.iptablesRestore).not.toContain('-A KUBE-IPVS-OUT-FILTER');
    expect(out.iptablesRestore).toContain('-A KUBE-SERVICES -m comment --comment "Kubernetes service lb portal" -m set --match-set KUBE-LOAD-BALANCER dst,dst -j KUBE-LOAD-BALANCER');
    expect(() => new RulesetModel().applyRestore(out.iptablesRestore)).not.toThrow();
  });

  it('blocks the node from an LB IP whose source ranges leave it out', () => {
    const out = build(lb(['203.0.113.0/24']));
    expect(out.ipsets.get('KUBE-LOAD-BALANCER-SOURCE-IP')).toEqual([]);
    expect(out.iptablesRestore).toContain('-A KUBE-IPVS-OUT-FILTER -s 198.51.100.7 -m ipvs --vaddr 198.51.100.7 --vproto tcp --vport 80 -j DROP');
  });
});
