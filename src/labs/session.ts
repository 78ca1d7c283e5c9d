// Bringing a lab's cluster to its starting state: a cluster of the lab's shape (nodes, overlay
// backend, proxy mode) built with `kemu up`'s own up(), the lab's manifests applied, and a wait
// until its Pods are Ready. The cluster remembers which lab made it (lab.json in its state
// directory), so start and reset rebuild only clusters that labs own. Checks marked atStart must
// pass before start returns. A lab with faults (08) gets a fresh cluster every time, and one fault
// injected once those checks pass.

import fs from 'node:fs';
import path from 'node:path';
import { clusterPaths, defaultClusterConfig, type ClusterConfig } from '../api/cluster.js';
import type { Deployment, Pod } from '../api/types.js';
import { down, isClusterUp, up } from '../cli/lifecycle.js';
import type { Lab } from './catalog.js';
import { liveLabEnv, type LabEnv, type WritableLabEnv } from './env.js';
import { forgetFault, injectFault, readFault } from './faults.js';
import { gradeLab } from './grade.js';
import type { Outcome } from './result.js';
import type { ClusterShape, LabSpec } from './spec.js';

/** Lab clusters get their own underlay, so they can run beside a default cluster (172.18.0.0/16). */
export const LAB_UNDERLAY_CIDR = '172.19.0.0/16';

export interface LabMarker {
  lab: string;
  shape: ClusterShape;
}

export interface StartOptions {
  /** Shape settings given on the command line win over lab.yaml's. */
  overrides: Partial<ClusterShape>;
  underlayCIDR?: string;
  /** Rebuild the cluster even when it already runs this lab (reset). */
  fresh: boolean;
  /** Apply one manifest file to the cluster, as `kemu apply -f` does. */
  apply(file: string): Promise<void>;
  log(line: string): void;
}

const markerFile = (cluster: string): string => path.join(clusterPaths(cluster).dir, 'lab.json');

export function readMarker(cluster: string): LabMarker | undefined {
  try {
    return JSON.parse(fs.readFileSync(markerFile(cluster), 'utf8')) as LabMarker;
  } catch {
    return undefined;
  }
}

const sameShape = (a: ClusterShape, b: ClusterShape): boolean => a.workers === b.workers && a.backend === b.backend && a.proxyMode === b.proxyMode;

/** The shape to build: lab.yaml's, then (on reset of the same lab) what it was started with, then the flags. */
function wantedShape(lab: Lab, marker: LabMarker | undefined, opts: StartOptions): ClusterShape {
  const kept = opts.fresh && marker?.lab === lab.name ? marker.shape : lab.spec.cluster;
  return { ...kept, ...opts.overrides };
}

async function buildCluster(cluster: string, shape: ClusterShape, opts: StartOptions, lab: Lab): Promise<void> {
  const config: ClusterConfig = { ...defaultClusterConfig(cluster), ...shape, underlayCIDR: opts.underlayCIDR ?? LAB_UNDERLAY_CIDR };
  opts.log(`Creating cluster "${cluster}" for lab ${lab.name}: ${shape.workers} workers, backend ${shape.backend}, proxy mode ${shape.proxyMode} ...`);
  const result = await up(config);
  for (const w of result.warnings) opts.log(`warning: ${w}`);
  fs.writeFileSync(markerFile(cluster), `${JSON.stringify({ lab: lab.name, shape } satisfies LabMarker)}\n`);
}

/** Make `cluster` run `lab` in its starting state. */
export async function startLab(cluster: string, lab: Lab, opts: StartOptions): Promise<void> {
  const marker = readMarker(cluster);
  const shape = wantedShape(lab, marker, opts);
  const exists = isClusterUp(cluster) || fs.existsSync(clusterPaths(cluster).dir);
  if (exists && !marker) {
    throw new Error(`cluster "${cluster}" exists and was not made by kemu lab: pick another name with --cluster, or remove it with kemu down --cluster ${cluster}`);
  }
  const hasFaults = lab.spec.faults.length > 0;
  const reusable = isClusterUp(cluster) && marker?.lab === lab.name && sameShape(marker.shape, shape) && !opts.fresh && !hasFaults;
  if (!reusable) {
    if (exists) {
      opts.log(`Removing cluster "${cluster}" (it ran ${marker?.lab} as ${marker?.shape.backend}/${marker?.shape.proxyMode}) ...`);
      await down(cluster);
    }
    await buildCluster(cluster, shape, opts, lab);
  }
  forgetFault(cluster);
  for (const m of lab.spec.manifests) await opts.apply(path.join(lab.dir, m));
  const atStart: LabSpec = { ...lab.spec, checks: lab.spec.checks.filter((c) => c.atStart), questions: [] };
  if (atStart.checks.length === 0) return;
  const env = liveLabEnv(cluster);
  try {
    opts.log("Waiting for the lab's starting state ...");
    const failing = await waitForChecks(env, atStart, true, HEALTHY_TIMEOUT_MS);
    if (failing.length > 0) throw new Error(`the lab's starting state never came: ${failing.map((o) => `${o.id} (${o.detail})`).join(', ')}`);
    if (hasFaults) await breakStartingState(env, lab, atStart, opts);
  } finally {
    env.close();
  }
}

/** A teacher (or a test) may pick the fault instead of leaving it to chance. */
const FAULT_ENV_VAR = 'KEMU_LAB_FAULT';
const HEALTHY_TIMEOUT_MS = 120_000;
/** DNS Pods turn NotReady after 3 failed probes 10 s apart. */
const SYMPTOM_TIMEOUT_MS = 60_000;

/** Poll the checks until all pass (healthy) or one fails (!healthy); the failing ones at the deadline. */
async function waitForChecks(env: LabEnv, spec: LabSpec, healthy: boolean, timeoutMs: number): Promise<Outcome[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const failing = (await gradeLab(env, spec, {})).filter((o) => !o.passed);
    if ((failing.length === 0) === healthy || Date.now() > deadline) return failing;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/**
 * The starting state of a troubleshooting lab is healthy: its atStart checks pass. Inject the fault
 * and wait until one of them shows it (kube-proxy and probes take a moment), so that the student
 * starts from a visible symptom.
 */
async function breakStartingState(env: WritableLabEnv, lab: Lab, atStart: LabSpec, opts: StartOptions): Promise<void> {
  await injectFault(env, lab.spec.faults, process.env[FAULT_ENV_VAR] || undefined);
  await waitForChecks(env, atStart, false, SYMPTOM_TIMEOUT_MS);
  opts.log('Something in this cluster is now broken. Find it and fix it.');
}

const POLL_MS = 500;

/**
 * Wait until every Deployment in `default` has all its replicas Ready, and every Pod there is Ready,
 * and the add-ons' Pods in kube-system too. Once a fault is injected the starting state was reached
 * already (and may never be again until the student fixes it): nothing to wait for.
 */
export async function waitForStartingState(env: Pick<LabEnv, 'pods' | 'getObject' | 'cluster'>, deployments: string[], timeoutMs: number): Promise<void> {
  if (readFault(env.cluster)) return;
  const deadline = Date.now() + timeoutMs;
  let waitingFor = '';
  while (Date.now() < deadline) {
    const pending: string[] = [];
    for (const name of deployments) {
      const d = (await env.getObject('deployments', name)) as Deployment;
      if ((d.status?.readyReplicas ?? 0) < (d.spec.replicas ?? 1) || (d.status?.replicas ?? 0) > (d.spec.replicas ?? 1)) pending.push(`deployment/${name}`);
    }
    const ready = (p: Pod) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
    for (const namespace of ['default', 'kube-system']) {
      for (const p of await env.pods('', namespace)) if (!ready(p) && !p.metadata.deletionTimestamp) pending.push(`pod/${p.metadata.name}`);
    }
    if (pending.length === 0) return;
    waitingFor = pending.join(', ');
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  throw new Error(`timed out waiting for ${waitingFor} to be Ready`);
}
