// Bringing a lab's cluster to its starting state: a cluster of the lab's shape (nodes, overlay
// backend, proxy mode) built with `kemu up`'s own up(), the lab's manifests applied, and a wait
// until its Pods are Ready. The cluster remembers which lab made it (lab.json in its state
// directory), so start and reset rebuild only clusters that labs own.

import fs from 'node:fs';
import path from 'node:path';
import { clusterPaths, defaultClusterConfig, type ClusterConfig } from '../api/cluster.js';
import type { Deployment, Pod } from '../api/types.js';
import { down, isClusterUp, up } from '../cli/lifecycle.js';
import type { Lab } from './catalog.js';
import type { LabEnv } from './env.js';
import type { ClusterShape } from './spec.js';

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
    throw new Error(`error: cluster "${cluster}" exists and was not made by kemu lab: pick another name with --cluster, or remove it with kemu down --cluster ${cluster}`);
  }
  const reusable = isClusterUp(cluster) && marker?.lab === lab.name && sameShape(marker.shape, shape) && !opts.fresh;
  if (!reusable) {
    if (exists) {
      opts.log(`Removing cluster "${cluster}" (it ran ${marker?.lab} as ${marker?.shape.backend}/${marker?.shape.proxyMode}) ...`);
      await down(cluster);
    }
    await buildCluster(cluster, shape, opts, lab);
  }
  for (const m of lab.spec.manifests) await opts.apply(path.join(lab.dir, m));
}

const POLL_MS = 500;

/** Wait until every Deployment in `default` has all its replicas Ready, and every Pod there is Ready. */
export async function waitForStartingState(env: Pick<LabEnv, 'pods' | 'getObject'>, deployments: string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let waitingFor = '';
  while (Date.now() < deadline) {
    const pending: string[] = [];
    for (const name of deployments) {
      const d = (await env.getObject('deployments', name)) as Deployment;
      if ((d.status?.readyReplicas ?? 0) < (d.spec.replicas ?? 1) || (d.status?.replicas ?? 0) > (d.spec.replicas ?? 1)) pending.push(`deployment/${name}`);
    }
    const ready = (p: Pod) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
    for (const p of await env.pods('')) if (!ready(p) && !p.metadata.deletionTimestamp) pending.push(`pod/${p.metadata.name}`);
    if (pending.length === 0) return;
    waitingFor = pending.join(', ');
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  throw new Error(`error: timed out waiting for ${waitingFor} to be Ready`);
}
