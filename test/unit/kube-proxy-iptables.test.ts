// The iptables proxier around the conformance cases: sync scheduling, base-chain jumps, the
// in-memory kernel model and the tracer's matching rules.

import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { masqueradeMarkForBit } from '../../src/proxy/iptables/config.js';
import { FULL_SYNC_PERIOD_MS, IptablesProxier } from '../../src/proxy/iptables/proxier.js';
import { RestoreError, RulesetModel, ruleTarget } from '../../src/proxy/iptables/ruleset.js';
import { tracePacket } from '../../src/proxy/iptables/trace.js';
import { casesRoot, clusterIPService, proxierConfig, serviceSlice, stepChain } from './kube-proxy-cases.js';

const spec = stepChain(path.join(casesRoot, '01-iptables-overall-rules'))[0]!.spec;

const svc = clusterIPService('ns1', 'svc1', '172.30.0.41', 'p80', 80);
const eps = serviceSlice('ns1', 'svc1', ['10.180.0.1'], 'p80', 80);

function setup(): { kernel: RulesetModel; proxier: IptablesProxier; advance: (ms: number) => void } {
  let clock = 0;
  const kernel = new RulesetModel();
  const proxier = new IptablesProxier(proxierConfig(spec), kernel, () => clock);
  proxier.onServiceAdd(svc);
  proxier.onEndpointSliceAdd(eps);
  return { kernel, proxier, advance: (ms) => (clock += ms) };
}

const targets = (kernel: RulesetModel, table: string, chain: string): (string | undefined)[] =>
  (kernel.rules(table, chain) ?? []).map(ruleTarget);

describe('iptables proxier syncs', () => {
  it('installs the base-chain jumps once, in upstream order on a fresh host', async () => {
    const { kernel, proxier } = setup();
    expect((await proxier.sync()).fullSync).toBe(true);
    proxier.forceFullSync();
    expect((await proxier.sync()).fullSync).toBe(true);
    expect(targets(kernel, 'filter', 'INPUT')).toEqual(['KUBE-FIREWALL', 'KUBE-PROXY-FIREWALL', 'KUBE-NODEPORTS', 'KUBE-EXTERNAL-SERVICES']);
    expect(targets(kernel, 'filter', 'FORWARD')).toEqual(['KUBE-PROXY-FIREWALL', 'KUBE-FORWARD', 'KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES']);
    expect(targets(kernel, 'filter', 'OUTPUT')).toEqual(['KUBE-FIREWALL', 'KUBE-PROXY-FIREWALL', 'KUBE-SERVICES']);
    expect(targets(kernel, 'nat', 'PREROUTING')).toEqual(['KUBE-SERVICES']);
    expect(targets(kernel, 'nat', 'POSTROUTING')).toEqual(['KUBE-POSTROUTING']);
  });

  it('syncs partially while nothing changes, and fully again after the full-sync period', async () => {
    const { proxier, advance } = setup();
    await proxier.sync();
    advance(1000);
    const partial = await proxier.sync();
    expect(partial.fullSync).toBe(false);
    expect(partial.restore).not.toContain('KUBE-SEP-');
    advance(FULL_SYNC_PERIOD_MS);
    const full = await proxier.sync();
    expect(full.fullSync).toBe(true);
    expect(full.restore).toContain(':KUBE-SEP-SXIVWICOYRO3J4NJ - [0:0]');
  });

  it('counts a failed restore and retries with a full sync', async () => {
    const { kernel, proxier } = setup();
    await proxier.sync();
    // Someone deletes a chain kube-proxy relies on: the next partial restore's jump dangles.
    kernel.applyRestore('*nat\n:KUBE-SVC-XPGD46QRK7WJZT7O - [0:0]\n:KUBE-SERVICES - [0:0]\n-X KUBE-SVC-XPGD46QRK7WJZT7O\nCOMMIT\n');
    const failed = await proxier.sync();
    expect(failed.ok).toBe(false);
    expect(failed.error).toBeInstanceOf(RestoreError);
    expect(proxier.metrics()).toMatchObject({
      sync_proxy_rules_iptables_restore_failures_total: 1,
      sync_proxy_rules_iptables_partial_restore_failures_total: 1,
    });
    const healed = await proxier.sync();
    expect([healed.ok, healed.fullSync]).toEqual([true, true]);
    expect(kernel.rules('nat', 'KUBE-SVC-XPGD46QRK7WJZT7O')).toHaveLength(2);
  });
});

describe('in-memory iptables', () => {
  it('applies nothing when a transaction fails', () => {
    const kernel = new RulesetModel();
    kernel.applyRestore('*nat\n:KUBE-A - [0:0]\n:KUBE-B - [0:0]\n-A KUBE-A -j KUBE-B\nCOMMIT\n');
    expect(() => kernel.applyRestore('*nat\n:KUBE-B - [0:0]\n:KUBE-C - [0:0]\n-X KUBE-B\nCOMMIT\n')).toThrow(/KUBE-B/);
    expect(kernel.chains('nat')).toEqual(['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING', 'KUBE-A', 'KUBE-B']);
    expect(() => kernel.applyRestore('*nat\n-A KUBE-Z -j ACCEPT\nCOMMIT\n')).toThrow(/KUBE-Z does not exist/);
  });

  it('flushes declared chains and leaves the others alone (--noflush)', () => {
    const kernel = new RulesetModel();
    kernel.applyRestore('*filter\n:KUBE-X - [0:0]\n:KUBE-Y - [0:0]\n-A KUBE-X -j ACCEPT\n-A KUBE-Y -j DROP\nCOMMIT\n');
    kernel.applyRestore('*filter\n:KUBE-X - [0:0]\n-A KUBE-X -j REJECT\nCOMMIT\n');
    expect(kernel.rules('filter', 'KUBE-X')).toEqual(['-A KUBE-X -j REJECT']);
    expect(kernel.rules('filter', 'KUBE-Y')).toEqual(['-A KUBE-Y -j DROP']);
  });
});

describe('packet tracer', () => {
  const rules = new RulesetModel();
  rules.applyRestore(
    [
      '*nat',
      ':KUBE-S - [0:0]',
      ':KUBE-A - [0:0]',
      ':KUBE-B - [0:0]',
      ':KUBE-MARK-MASQ - [0:0]',
      '-A PREROUTING -j KUBE-S',
      '-A KUBE-S -m recent --name KUBE-A --rcheck --seconds 10 --reap -j KUBE-A',
      '-A KUBE-S ! -s 10.0.0.0/8 -d 172.30.0.1 -j KUBE-MARK-MASQ',
      '-A KUBE-S -m statistic --mode random --probability 0.5000000000 -p udp -d 172.30.0.1 --dport 53 -j KUBE-A',
      '-A KUBE-S -p udp -d 172.30.0.1 --dport 53 -j KUBE-B',
      '-A KUBE-A -m udp -p udp -j DNAT --to-destination 10.1.0.1:53',
      '-A KUBE-B -m udp -p udp -j DNAT --to-destination 10.1.0.2:53',
      'COMMIT',
    ].join('\n') + '\n',
  );
  const trace = (sourceIP: string, protocol: string, dport = 53) => tracePacket(rules, { sourceIP, protocol, destIP: '172.30.0.1', destPort: dport }, []);

  it('collects every endpoint behind probabilistic jumps and skips history checks', () => {
    expect(trace('10.0.0.5', 'udp')).toMatchObject({ output: '10.1.0.1:53, 10.1.0.2:53', masq: false });
  });

  it('honours negated source matches, protocols and ports', () => {
    expect(trace('192.168.0.9', 'udp').masq).toBe(true);
    expect(trace('10.0.0.5', 'tcp').output).toBe('');
    expect(trace('10.0.0.5', 'udp', 54).output).toBe('');
  });
});

describe('masquerade mark', () => {
  it('is printed like Go %#08x', () => {
    expect(masqueradeMarkForBit(14)).toBe('0x00004000');
    expect(masqueradeMarkForBit(0)).toBe('0x00000001');
  });
});
