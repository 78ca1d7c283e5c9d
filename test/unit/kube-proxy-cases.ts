// Loading the kube-proxy conformance cases (../shared/conformance/kube-proxy, see its README):
// input.yaml's ProxierTestConfig and objects, multi-step chains declared with sync.after, and the
// expectation files next to them.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import type { EndpointSlice, KubeObject, Service } from '../../src/api/types.js';
import type { IptablesProxierConfig } from '../../src/proxy/iptables/config.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const casesRoot = path.resolve(repoRoot, '..', 'shared', 'conformance', 'kube-proxy');

export interface TestConfigSpec {
  mode: 'iptables' | 'nftables' | 'none';
  rulesFile?: string;
  ipFamily?: 'IPv4' | 'IPv6';
  nodeName?: string;
  nodeIP?: string;
  masqueradeAll?: boolean;
  masqueradeMark?: string;
  localDetector?: { mode: string; cidr?: string };
  localhostNodePorts?: boolean;
  nodePortAddresses?: string[] | null;
  conntrackTCPLiberal?: boolean;
  iptablesHasRandomFully?: boolean;
  nfacctCounters?: Record<string, boolean>;
  interfaces?: { name: string; addresses: string[] }[];
  localAddresses: string[];
  sync?: { after?: string | null; step?: number };
}

export interface CaseInput {
  dir: string;
  spec: TestConfigSpec;
  objects: (Service | EndpointSlice)[];
}

export interface Flow {
  name: string;
  sourceIP: string;
  protocol?: string;
  destIP: string;
  destPort: number;
  output: string;
  masq: boolean;
}

export function readYaml<T>(file: string): T {
  return parseAllDocuments(readFileSync(file, 'utf8'))[0]!.toJS() as T;
}

export function loadCase(dir: string): CaseInput {
  const [config, ...rest] = parseAllDocuments(readFileSync(path.join(dir, 'input.yaml'), 'utf8')).map((d) => d.toJS() as unknown);
  const spec = (config as { spec: TestConfigSpec }).spec;
  const objects = (rest as (KubeObject | null)[]).filter(
    (o): o is Service | EndpointSlice => o !== null && (o.kind === 'Service' || o.kind === 'EndpointSlice'),
  );
  return { dir, spec, objects };
}

/** The steps to replay for a case, oldest first: the sync.after chain ending in the case itself. */
export function stepChain(dir: string): CaseInput[] {
  const chain: CaseInput[] = [];
  for (let current: string | undefined = dir; current !== undefined && chain.length < 20; ) {
    const input = loadCase(current);
    chain.unshift(input);
    const after = input.spec.sync?.after;
    current = after ? path.join(path.dirname(current), after) : undefined;
  }
  return chain;
}

/** Folders (relative to casesRoot) holding one case: an input.yaml or a normaliser input. */
export function discoverCases(prefix: RegExp): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    const abs = path.join(casesRoot, rel);
    if (existsSync(path.join(abs, 'input.yaml')) || existsSync(path.join(abs, 'input.iptables'))) {
      out.push(rel);
      return;
    }
    for (const entry of readdirSync(abs).sort()) {
      if (statSync(path.join(abs, entry)).isDirectory()) walk(path.join(rel, entry));
    }
  };
  for (const top of readdirSync(casesRoot).sort()) if (prefix.test(top)) walk(top);
  return out;
}

export function proxierConfig(spec: TestConfigSpec): IptablesProxierConfig {
  const nfacct = spec.nfacctCounters ?? {};
  return {
    ipFamily: spec.ipFamily ?? 'IPv4',
    nodeName: spec.nodeName ?? 'test-node',
    nodeIP: spec.nodeIP ?? '192.168.0.2',
    masqueradeAll: spec.masqueradeAll ?? false,
    masqueradeMark: spec.masqueradeMark ?? '0x4000',
    clusterCIDR: spec.localDetector?.mode === 'ClusterCIDR' ? spec.localDetector.cidr : undefined,
    localhostNodePorts: spec.localhostNodePorts ?? true,
    nodePortAddresses: spec.nodePortAddresses ?? null,
    hostAddresses: (spec.interfaces ?? []).flatMap((i) => i.addresses),
    conntrackTCPLiberal: spec.conntrackTCPLiberal ?? false,
    randomFully: spec.iptablesHasRandomFully ?? false,
    nfacct: {
      ctStateInvalidDropped: nfacct['ct_state_invalid_dropped_pkts'] === true,
      localhostNodePortsAccepted: nfacct['localhost_nps_accepted_pkts'] === true,
    },
    syncPeriodMs: 30_000,
  };
}
