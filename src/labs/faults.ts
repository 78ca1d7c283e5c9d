// Lab 08's faults: `kemu lab start 08` breaks the starting state in one way picked at random, the
// student finds and fixes it, and the `fault` probe names it once it is fixed. Each fault knows how
// to break the cluster and how to tell, from the live cluster, that it works again — by what the
// student could see (Pods Ready, endpoints selected, a sysctl), not by undoing one exact edit.
// The chosen fault is kept in the cluster's state directory, where no `kemu` verb shows it.

import fs from 'node:fs';
import path from 'node:path';
import { clusterPaths } from '../api/cluster.js';
import type { ConfigMap, Container, Deployment, Pod, Service } from '../api/types.js';
import type { LabEnv, WritableLabEnv } from './env.js';
import { clientPod, WEB, type Fault, type FaultRecord } from './fault.js';
import { NODE_FAULTS } from './node-faults.js';
import { nodeName, ProbeError } from './placeholders.js';

export type { FaultRecord } from './fault.js';

const isReady = (p: Pod): boolean => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/** The `ready` directive of a Corefile, on a line of its own (with or without an address). */
const READY_LINE = /^[ \t]*ready\b[^\n{]*\n/m;

const BRIDGE_NF = 'net.bridge.bridge-nf-call-iptables';

/** A port nothing in web's Pods listens on. */
const WRONG_PROBE_PORT = 8081;

/** The readiness probe of web's first container sent to a port nothing listens on; merge patch replaces the whole container list. */
async function breakReadiness(env: WritableLabEnv): Promise<FaultRecord> {
  const d = (await env.getObject('deployments', WEB)) as Deployment;
  const containers = d.spec.template.spec.containers.map((c: Container, i: number) =>
    i === 0 && c.readinessProbe?.httpGet ? { ...c, readinessProbe: { ...c.readinessProbe, httpGet: { ...c.readinessProbe.httpGet, port: WRONG_PROBE_PORT } } } : c,
  );
  await env.patch('deployments', 'default', WEB, { spec: { template: { spec: { containers } } } });
  return { name: 'readiness-failing' };
}

const FAULTS: Fault[] = [
  {
    name: 'selector-typo',
    explain: () => 'the web Service selected app=wbe (a typo): it matched no Pod, so its EndpointSlice was empty and kube-proxy rejected its ClusterIP',
    inject: async (env) => {
      await env.patch('services', 'default', WEB, { spec: { selector: { app: 'wbe' } } });
      return { name: 'selector-typo' };
    },
    fixed: async (env) => {
      const svc = (await env.getObject('services', WEB)) as Service;
      const wanted = Object.entries(svc.spec.selector ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
      if (wanted === '') return false;
      const selected = await env.pods(wanted);
      return selected.length > 0 && selected.every((p) => p.metadata.labels?.app === WEB);
    },
  },
  {
    name: 'readiness-failing',
    explain: () => `web's readiness probe asked port ${WRONG_PROBE_PORT}, where nothing listens (connection refused): the new Pods never became Ready and the rollout stalled`,
    inject: breakReadiness,
    fixed: async (env) => {
      const d = (await env.getObject('deployments', WEB)) as Deployment;
      const want = d.spec.replicas ?? 1;
      const s = d.status ?? {};
      return s.observedGeneration === d.metadata.generation && s.updatedReplicas === want && s.readyReplicas === want && s.replicas === want;
    },
  },
  {
    name: 'dns-not-ready',
    explain: () => "the coredns Corefile lost its `ready` plugin: nothing answered the readiness probe on :8181, both coredns Pods went NotReady and kube-dns had no ready endpoint",
    inject: async (env) => {
      const cm = (await env.getObject('configmaps', 'coredns', 'kube-system')) as ConfigMap;
      const corefile = cm.data?.Corefile ?? '';
      if (!READY_LINE.test(corefile)) throw new Error('the coredns Corefile has no `ready` line to remove');
      await env.patch('configmaps', 'kube-system', 'coredns', { data: { Corefile: corefile.replace(READY_LINE, '') } });
      return { name: 'dns-not-ready' };
    },
    fixed: async (env) => {
      // the Pods stay Ready for a few probe periods after the edit: the Corefile says whether it is fixed yet
      const cm = (await env.getObject('configmaps', 'coredns', 'kube-system')) as ConfigMap;
      const pods = await env.pods('k8s-app=kube-dns', 'kube-system');
      return READY_LINE.test(cm.data?.Corefile ?? '') && pods.length > 0 && pods.every(isReady);
    },
  },
  {
    name: 'bridge-nf-off',
    explain: (r) => `${BRIDGE_NF} was 0 on ${r.node}: replies between Pods on its cni0 bridge skipped iptables, so connections to a ClusterIP whose endpoint sat on that node were never un-NATed`,
    inject: async (env) => {
      // the client's node: it has a web Pod too, so some of its requests to web stay on the bridge
      const node = (await clientPod(env)).spec.nodeName as string;
      const r = await env.runOnNode(node, ['sysctl', '-w', `${BRIDGE_NF}=0`], 10_000);
      if (r.code !== 0) throw new Error(`sysctl on ${node}: ${r.stderr.trim()}`);
      return { name: 'bridge-nf-off', node };
    },
    fixed: async (env, record) => {
      const r = await env.runOnNode(record.node ?? nodeName(env, 'worker'), ['sysctl', '-n', BRIDGE_NF], 10_000);
      return r.code === 0 && r.stdout.trim() === '1';
    },
  },
  ...NODE_FAULTS,
];

export const FAULT_NAMES: readonly string[] = FAULTS.map((f) => f.name);

const recordFile = (cluster: string): string => path.join(clusterPaths(cluster).dir, 'lab-fault.json');

export function readFault(cluster: string): FaultRecord | undefined {
  try {
    return JSON.parse(fs.readFileSync(recordFile(cluster), 'utf8')) as FaultRecord;
  } catch {
    return undefined;
  }
}

function faultNamed(name: string): Fault {
  const f = FAULTS.find((x) => x.name === name);
  if (!f) throw new Error(`unknown fault "${name}"; known: ${FAULT_NAMES.join(', ')}`);
  return f;
}

/** Break the cluster with `wanted`, or one of `choices` at random, and remember which. */
export async function injectFault(env: WritableLabEnv, choices: readonly string[], wanted?: string): Promise<FaultRecord> {
  const name = wanted ?? choices[Math.floor(Math.random() * choices.length)]!;
  if (!choices.includes(name)) throw new Error(`this lab's faults are ${choices.join(', ')}; "${name}" is not one of them`);
  const record = await faultNamed(name).inject(env);
  fs.writeFileSync(recordFile(env.cluster), `${JSON.stringify(record)}\n`);
  return record;
}

export function forgetFault(cluster: string): void {
  fs.rmSync(recordFile(cluster), { force: true });
}

/** The `fault` probe: the fault's name and what it broke once it is fixed; a ProbeError that does not name it before. */
export async function fixedFault(env: LabEnv): Promise<string> {
  const record = readFault(env.cluster);
  if (!record) throw new ProbeError('no fault was injected into this cluster: start the lab with kemu lab start');
  const fault = faultNamed(record.name);
  if (!(await fault.fixed(env, record))) throw new ProbeError('the injected fault is still there');
  return `${fault.name}: ${fault.explain(record)}`;
}
