// Runs every iptables conformance case (01-26) of ../shared/conformance/kube-proxy against the
// iptables proxier, its normaliser and its packet tracer, comparing as the cases' README says.

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { chainRules } from '../../src/proxy/iptables/dump.js';
import { normalizeIptables } from '../../src/proxy/iptables/normalize.js';
import { IptablesProxier, type SyncResult } from '../../src/proxy/iptables/proxier.js';
import { RulesetModel } from '../../src/proxy/iptables/ruleset.js';
import { tracePacket } from '../../src/proxy/iptables/trace.js';
import { applyDiff, casesRoot, clusterIPService, discoverCases, proxierConfig, readYaml, serviceSlice, stepChain, type CaseInput, type CaseObject, type Flow } from './kube-proxy-cases.js';

/**
 * Faults the README asks for before a step's sync: a stray rule that makes the partial restore
 * fail, after which the proxier must fall back to a full sync.
 */
const FAULTS: Record<string, { chain: string; args: string[] }> = {
  '11-iptables-repeated-9-full-resync-after-failure': {
    chain: 'KUBE-SVC-X27LE4BHSL4DOUIK',
    args: ['-j', 'KUBE-SEP-AYCN5HPXMIRJNJXU'],
  },
};

interface Replayed {
  last: SyncResult;
  kernel: RulesetModel;
  proxier: IptablesProxier;
}

/** Replays the sync.after chain of a case on one proxier and one in-memory kernel. */
async function replay(steps: CaseInput[]): Promise<Replayed> {
  const kernel = new RulesetModel();
  const proxier = new IptablesProxier(proxierConfig(steps[0]!.spec), kernel, () => 0);
  let previous: CaseObject[] = [];
  let last: SyncResult | undefined;
  for (const step of steps) {
    const fault = FAULTS[path.basename(step.dir)];
    if (fault !== undefined) kernel.appendRule('nat', fault.chain, fault.args);
    applyDiff(proxier, previous, step.objects);
    previous = step.objects;
    last = await proxier.sync();
    if (fault !== undefined) {
      expect(last.ok, 'the sync after the injected fault must fail').toBe(false);
      expect(proxier.metrics().sync_proxy_rules_iptables_partial_restore_failures_total).toBe(1);
      last = await proxier.sync();
    }
    expect(last.error?.message).toBeUndefined();
  }
  return { last: last!, kernel, proxier };
}

function runFlows(file: string, rules: RulesetModel, localAddresses: readonly string[]): void {
  const { flows } = readYaml<{ flows: Flow[] }>(file);
  const actual = flows.map((f) => {
    const result = tracePacket(rules, { sourceIP: f.sourceIP, protocol: f.protocol ?? 'tcp', destIP: f.destIP, destPort: f.destPort }, localAddresses);
    return { name: f.name, output: result.output, masq: result.masq };
  });
  expect(actual).toEqual(flows.map((f) => ({ name: f.name, output: f.output, masq: f.masq })));
}

describe('kube-proxy iptables conformance', () => {
  for (const rel of discoverCases(/^(0[1-9]|1[0-9]|2[0-4])-iptables-/)) {
    const dir = path.join(casesRoot, rel);
    it(rel, async () => {
      const steps = stepChain(dir);
      const spec = steps.at(-1)!.spec;
      if (spec.mode === 'none') {
        const kernel = new RulesetModel();
        kernel.applyRestore(readFileSync(path.join(dir, spec.rulesFile!), 'utf8'));
        runFlows(path.join(dir, 'expected-flows.yaml'), kernel, spec.localAddresses);
        return;
      }
      const { last, kernel, proxier } = await replay(steps);
      const file = (name: string): string | undefined => (existsSync(path.join(dir, name)) ? path.join(dir, name) : undefined);
      let checked = 0;

      const expectedRestore = file('expected.iptables');
      if (expectedRestore !== undefined) {
        expect(normalizeIptables(last.restore)).toBe(readFileSync(expectedRestore, 'utf8').replace(/^[ \t\n]+/, ''));
        checked++;
      }
      const expectedChains = file('expected-chains.yaml');
      if (expectedChains !== undefined) {
        const tables = readYaml<Record<string, Record<string, string>>>(expectedChains);
        for (const [table, chains] of Object.entries(tables)) {
          for (const [chain, rules] of Object.entries(chains)) {
            expect(chainRules(last.restore, table, chain).join('\n'), `${table}/${chain}`).toBe(rules.trimEnd());
          }
        }
        checked++;
      }
      const expectedFlows = file('expected-flows.yaml');
      if (expectedFlows !== undefined) {
        runFlows(expectedFlows, kernel, spec.localAddresses);
        checked++;
      }
      const expectedMetrics = file('expected-metrics.yaml');
      if (expectedMetrics !== undefined) {
        const want = readYaml<Record<string, number>>(expectedMetrics);
        const metrics = proxier.metrics();
        expect({
          sync_proxy_rules_iptables_last: metrics.sync_proxy_rules_iptables_last.nat,
          sync_proxy_rules_iptables_total: metrics.sync_proxy_rules_iptables_total.nat,
        }).toEqual(want);
        checked++;
      }
      expect(checked, 'case has no expectation file this runner knows').toBeGreaterThan(0);
    });
  }

  for (const rel of discoverCases(/^26-iptables-normalizer$/)) {
    it(rel, () => {
      const dir = path.join(casesRoot, rel);
      const input = readFileSync(path.join(dir, 'input.iptables'), 'utf8');
      expect(normalizeIptables(input)).toBe(readFileSync(path.join(dir, 'output.iptables'), 'utf8'));
    });
  }
});

interface LargeClusterStep {
  change: string;
  dnatRules: number;
  dnatRulesWithComment?: number;
  restoreInputContains?: string[];
  restoreInputMustNotContain?: string[];
  [lineFor: `lineFor${string}`]: string;
}

describe('kube-proxy iptables conformance (data)', () => {
  it('25-iptables-misc-data/large-cluster-mode', async () => {
    const data = readYaml<{ config: { masqueradeAll: boolean }; steps: LargeClusterStep[] }>(
      path.join(casesRoot, '25-iptables-misc-data', 'large-cluster-mode.yaml'),
    );
    const base = loadBaseSpec();
    let clock = 1_000_000;
    const kernel = new RulesetModel();
    const proxier = new IptablesProxier({ ...proxierConfig(base), masqueradeAll: data.config.masqueradeAll }, kernel, () => clock);
    const many = (second: number): string[] => Array.from({ length: 499 }, (_, i) => `10.${second}.${i % 256}.${Math.floor(i / 256)}`);
    const svc4 = clusterIPService('ns4', 'svc4', '172.30.0.44', 'p8082', 8082);
    const svc4Slice = serviceSlice('ns4', 'svc4', ['10.4.0.1'], 'p8082', 8082);
    const changes: (() => void)[] = [
      () => {
        proxier.onServiceAdd(clusterIPService('ns1', 'svc1', '172.30.0.41', 'p80', 80));
        proxier.onServiceAdd(clusterIPService('ns2', 'svc2', '172.30.0.42', 'p8080', 8080));
        proxier.onServiceAdd(clusterIPService('ns3', 'svc3', '172.30.0.43', 'p8081', 8081));
        proxier.onEndpointSliceAdd(serviceSlice('ns1', 'svc1', many(0), 'p80', 80));
        proxier.onEndpointSliceAdd(serviceSlice('ns2', 'svc2', many(1), 'p8080', 8080));
      },
      () => proxier.onEndpointSliceAdd(serviceSlice('ns3', 'svc3', ['203.0.113.4', '203.0.113.8', '203.0.113.12'], 'p8081', 8081)),
      () => proxier.forceFullSync(),
      () => {
        proxier.onServiceAdd(svc4);
        proxier.onEndpointSliceAdd(svc4Slice);
      },
      () => {
        proxier.onServiceDelete(svc4);
        proxier.onEndpointSliceDelete(svc4Slice);
      },
      () => {
        clock += 31_000; // older than syncPeriod (30s) since the last cleanup
      },
      () => proxier.forceFullSync(),
    ];
    expect(changes).toHaveLength(data.steps.length);
    for (const [i, step] of data.steps.entries()) {
      changes[i]!();
      const result = await proxier.sync();
      expect(result.ok, step.change).toBe(true);
      const lines = result.restore.split('\n');
      const dnat = lines.filter((l) => l.includes('-j DNAT'));
      expect(dnat.length, step.change).toBe(step.dnatRules);
      if (step.dnatRulesWithComment !== undefined) {
        expect(dnat.filter((l) => l.includes('--comment')).length, step.change).toBe(step.dnatRulesWithComment);
      }
      for (const [key, line] of Object.entries(step)) {
        if (key.startsWith('lineFor')) expect(lines, step.change).toContain(line);
      }
      for (const text of step.restoreInputContains ?? []) expect(result.restore, step.change).toContain(text);
      for (const text of step.restoreInputMustNotContain ?? []) expect(result.restore, step.change).not.toContain(text);
    }
  });
});

/** Fake-node settings shared by the cases (taken from case 01). */
function loadBaseSpec(): CaseInput['spec'] {
  return stepChain(path.join(casesRoot, '01-iptables-overall-rules'))[0]!.spec;
}
