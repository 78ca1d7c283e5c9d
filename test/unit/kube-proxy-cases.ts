// Loading the kube-proxy conformance cases (../shared/conformance/kube-proxy, see its README):
// input.yaml's ProxierTestConfig and objects, multi-step chains declared with sync.after, and the
// expectation files next to them.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import type { EndpointSlice, KubeObject, Service } from '../../src/api/types.js';
import type { IptablesProxierConfig } from '../../src/proxy/iptables/config.js';
import type { IptablesProxier } from '../../src/proxy/iptables/proxier.js';
import type { ProxierConfig } from '../../src/proxy/proxier-config.js';

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

/** The settings every mode takes, with the defaults of upstream's proxier tests. */
export function commonConfig(spec: TestConfigSpec): ProxierConfig {
  return {
    ipFamily: spec.ipFamily ?? 'IPv4',
    nodeName: spec.nodeName ?? 'test-node',
    nodeIP: spec.nodeIP ?? '192.168.0.2',
    masqueradeAll: spec.masqueradeAll ?? false,
    masqueradeMark: spec.masqueradeMark ?? '0x4000',
    clusterCIDR: spec.localDetector?.mode === 'ClusterCIDR' ? spec.localDetector.cidr : undefined,
    nodePortAddresses: spec.nodePortAddresses ?? null,
    hostAddresses: (spec.interfaces ?? []).flatMap((i) => i.addresses),
    syncPeriodMs: 30_000,
  };
}

export function proxierConfig(spec: TestConfigSpec): IptablesProxierConfig {
  const nfacct = spec.nfacctCounters ?? {};
  return {
    ...commonConfig(spec),
    localhostNodePorts: spec.localhostNodePorts ?? true,
    conntrackTCPLiberal: spec.conntrackTCPLiberal ?? false,
    randomFully: spec.iptablesHasRandomFully ?? false,
    nfacct: {
      ctStateInvalidDropped: nfacct['ct_state_invalid_dropped_pkts'] === true,
      localhostNodePortsAccepted: nfacct['localhost_nps_accepted_pkts'] === true,
    },
  };
}

/** A TCP ClusterIP Service with one port, as upstream's makeTestService builds it. */
export function clusterIPService(ns: string, name: string, ip: string, portName: string, port: number): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { namespace: ns, name },
    spec: { clusterIP: ip, ports: [{ name: portName, port, protocol: 'TCP' }] },
  };
}

/** The Service's one EndpointSlice: ready IPv4 endpoints on one TCP port. */
export function serviceSlice(ns: string, service: string, addresses: string[], portName: string, port: number): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace: ns, name: `${service}-1`, labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    endpoints: addresses.map((a) => ({ addresses: [a] })),
    ports: [{ name: portName, port, protocol: 'TCP' }],
  };
}

export type CaseObject = Service | EndpointSlice;
const objectKey = (o: CaseObject): string => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`;

/** The informer handlers every mode's proxier has. */
export type ObjectHandlers = Pick<
  IptablesProxier,
  'onServiceAdd' | 'onServiceUpdate' | 'onServiceDelete' | 'onEndpointSliceAdd' | 'onEndpointSliceUpdate' | 'onEndpointSliceDelete'
>;

/** Feeds the differences between two object sets to a proxier's informer handlers. */
export function applyDiff(proxier: ObjectHandlers, before: readonly CaseObject[], after: readonly CaseObject[]): void {
  const old = new Map(before.map((o) => [objectKey(o), o]));
  const next = new Map(after.map((o) => [objectKey(o), o]));
  for (const [key, o] of old) {
    if (next.has(key)) continue;
    if (o.kind === 'Service') proxier.onServiceDelete(o as Service);
    else proxier.onEndpointSliceDelete(o as EndpointSlice);
  }
  for (const [key, o] of next) {
    const prev = old.get(key);
    if (prev !== undefined && JSON.stringify(prev) === JSON.stringify(o)) continue;
    if (o.kind === 'Service') {
      if (prev === undefined) proxier.onServiceAdd(o as Service);
      else proxier.onServiceUpdate(prev as Service, o as Service);
    } else if (prev === undefined) proxier.onEndpointSliceAdd(o as EndpointSlice);
    else proxier.onEndpointSliceUpdate(prev as EndpointSlice, o as EndpointSlice);
  }
}
