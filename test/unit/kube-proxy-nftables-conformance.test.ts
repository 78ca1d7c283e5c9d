// Runs the nftables conformance cases (50-63, 67) of ../shared/conformance/kube-proxy against the
// nftables proxier, its in-memory table and its normaliser, comparing as the cases' README says.

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EndpointSlice } from '../../src/api/types.js';
import { modelBackend } from '../../src/proxy/nftables/backend.js';
import type { NftablesProxierConfig } from '../../src/proxy/nftables/config.js';
import { endpointObjectNames, servicePortNameBase, serviceObjectNames } from '../../src/proxy/nftables/names.js';
import { normalizeNft } from '../../src/proxy/nftables/normalize.js';
import { NftablesProxier } from '../../src/proxy/nftables/proxier.js';
import { NftTableModel } from '../../src/proxy/nftables/table.js';
import { traceNftPacket } from '../../src/proxy/nftables/trace.js';
import { applyDiff, casesRoot, commonConfig, discoverCases, readYaml, stepChain, type CaseInput, type CaseObject, type Flow } from './kube-proxy-cases.js';

/** nftables-only fields of ProxierTestConfig. */
interface NftSpecExtras {
  serviceCIDRs?: string;
  preexistingState?: string;
  sync?: { change?: string };
}

function nftConfig(step: CaseInput): NftablesProxierConfig {
  const extras = step.spec as unknown as NftSpecExtras;
  return {
    ...commonConfig(step.spec),
    serviceCIDRs: (extras.serviceCIDRs ?? '').split(',').map((s) => s.trim()).filter((s) => s !== ''),
  };
}

/** Steps whose change says time passes: stale chains must be older than the 1 s delay. */
const agesStaleChains = (step: CaseInput): boolean => /time passes|age stale/.test((step.spec as unknown as NftSpecExtras).sync?.change ?? '');

async function setupOperations(step: CaseInput): Promise<number> {
  const proxier = new NftablesProxier(nftConfig(step), modelBackend(new NftTableModel()), () => 0);
  return (await proxier.sync()).operations;
}

describe('kube-proxy nftables conformance', () => {
  for (const rel of discoverCases(/^(5[0-9]|6[01]|67)-nftables-/)) {
    const dir = path.join(casesRoot, rel);
    it(rel, async () => {
      const steps = stepChain(dir);
      const table = new NftTableModel();
      const preexisting = (steps[0]!.spec as unknown as NftSpecExtras).preexistingState;
      if (preexisting !== undefined) table.load(readFileSync(path.join(dir, preexisting), 'utf8'));
      let clock = 1_000_000;
      const proxier = new NftablesProxier(nftConfig(steps[0]!), modelBackend(table), () => clock);
      let previous: CaseObject[] = [];
      let operations = 0;
      for (const step of steps) {
        if (agesStaleChains(step)) clock += 2000;
        applyDiff(proxier, previous, step.objects);
        previous = step.objects;
        const result = await proxier.sync();
        expect(result.error?.message).toBeUndefined();
        operations = result.operations;
      }
      const expected = normalizeNft(readFileSync(path.join(dir, 'expected.nft'), 'utf8'));
      expect(normalizeNft(table.dump())).toBe(expected);
      const txFile = path.join(dir, 'expected-transaction.yaml');
      if (existsSync(txFile)) {
        const want = readYaml<{ operations?: number; operationsBeyondSetup?: number }>(txFile);
        if (want.operations !== undefined) expect(operations).toBe(want.operations);
        else expect(operations - (await setupOperations(steps[0]!))).toBe(want.operationsBeyondSetup);
      }
      if (existsSync(path.join(dir, 'FOLLOW-UP.md'))) {
        // 61: (a) empty svc3, sync, age, restore, sync -> same state; (b) a no-op sync has 0 operations.
        const svc3Slice = previous.find((o): o is EndpointSlice => o.kind === 'EndpointSlice' && o.metadata.namespace === 'ns3')!;
        proxier.onEndpointSliceUpdate(svc3Slice, { ...svc3Slice, endpoints: [] });
        expect((await proxier.sync()).ok).toBe(true);
        clock += 2000;
        proxier.onEndpointSliceUpdate({ ...svc3Slice, endpoints: [] }, svc3Slice);
        expect((await proxier.sync()).ok).toBe(true);
        expect(normalizeNft(table.dump())).toBe(expected);
        const noop = await proxier.sync();
        expect(noop.operations).toBe(0);
        expect(normalizeNft(table.dump())).toBe(expected);
      }
    });
  }

  for (const rel of discoverCases(/^6[4-6]-nftables-flows-/)) {
    const dir = path.join(casesRoot, rel);
    it(rel, async () => {
      const steps = stepChain(dir);
      const table = new NftTableModel();
      const proxier = new NftablesProxier(nftConfig(steps[0]!), modelBackend(table), () => 0);
      let previous: CaseObject[] = [];
      for (const step of steps) {
        applyDiff(proxier, previous, step.objects);
        previous = step.objects;
        expect((await proxier.sync()).error?.message).toBeUndefined();
      }
      const { flows } = readYaml<{ flows: Flow[] }>(path.join(dir, 'expected-flows.yaml'));
      const local = steps.at(-1)!.spec.localAddresses;
      const actual = flows.map((f) => {
        const result = traceNftPacket(table, { sourceIP: f.sourceIP, protocol: f.protocol ?? 'tcp', destIP: f.destIP, destPort: f.destPort }, local);
        return { name: f.name, output: result.output, masq: result.masq };
      });
      expect(actual).toEqual(flows.map((f) => ({ name: f.name, output: f.output, masq: f.masq })));
    });
  }

  it('62-nftables-normalizer', () => {
    const dir = path.join(casesRoot, '62-nftables-normalizer');
    expect(normalizeNft(readFileSync(path.join(dir, 'input.nft'), 'utf8'))).toBe(readFileSync(path.join(dir, 'output.nft'), 'utf8').trimEnd());
  });

  it('63-nftables-misc-data: object names', () => {
    type Row = { namespace: string; name: string; port: string; protocol: string; endpoint?: string; expected: string };
    const data = readYaml<{ servicePortChainNameBase: Row[]; servicePortEndpointChainNameBase: Row[]; fromDumps: { base: string; hash: string }[] }>(
      path.join(casesRoot, '63-nftables-misc-data', 'chain-names.yaml'),
    );
    const ref = (r: Row) => ({ namespace: r.namespace, name: r.name, portName: r.port, protocol: r.protocol.toUpperCase() as 'TCP' });
    for (const r of data.servicePortChainNameBase) {
      expect(serviceObjectNames(ref(r)).clusterPolicy).toBe(`service-${r.expected}`);
      expect(servicePortNameBase(ref(r))).toBe(r.expected.slice(9));
    }
    for (const r of data.servicePortEndpointChainNameBase) {
      const m = /^\[?(.*?)\]?:(\d+)$/.exec(r.endpoint!)!;
      expect(endpointObjectNames(ref(r), m[1]!, Number(m[2])).chain).toBe(`endpoint-${r.expected}`);
    }
    for (const { base, hash } of data.fromDumps) {
      const [namespace, name, protocol, rest] = base.split('/') as [string, string, string, string];
      const [portName, endpoint] = rest.split('__') as [string, string | undefined];
      const sp = { namespace, name, portName, protocol: protocol.toUpperCase() as 'TCP' };
      const actual = endpoint === undefined ? serviceObjectNames(sp).clusterPolicy : endpointObjectNames(sp, endpoint, Number(base.split('/').at(-1))).chain;
      expect(actual).toBe(`${endpoint === undefined ? 'service' : 'endpoint'}-${hash}-${base}`);
    }
  });
});
