// API write throughput and watch delivery latency: a real API server, in its own process, on a
// temporary socket; 10 watchers on Services in all namespaces; 10,000 Services then 10,000
// EndpointSlices created through HttpClient with 64 requests in flight. Prints a table; never
// fails on a missed target.
//
//   node --import tsx bench/api.ts

import { fork } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { defaultClusterConfig } from '../src/api/cluster.js';
import { HttpClient } from '../src/api/http-client.js';
import { RESOURCES, type ResourceType } from '../src/api/resources.js';
import { startApiServer } from '../src/api/server/apiserver.js';
import type { EndpointSlice, KubeObject, Service } from '../src/api/types.js';

const OBJECTS_PER_KIND = 10_000;
const WATCHERS = 10;
const IN_FLIGHT = 64;
const ABORT_AFTER_MS = 120_000;
const TARGET_WRITES_PER_S = 5_000;
const TARGET_P99_MS = 50;
const NAMESPACE = 'default';

function resource(kind: string): ResourceType {
  const r = RESOURCES.find((x) => x.kind === kind);
  if (!r) throw new Error(`no resource for ${kind}`);
  return r;
}

function service(i: number): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: `svc-${i}`, namespace: NAMESPACE, labels: { app: `app-${i % 100}` } },
    spec: { type: 'ClusterIP', selector: { app: `app-${i % 100}` }, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] },
  };
}

function endpointSlice(i: number): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `svc-${i}-bench`,
      namespace: NAMESPACE,
      labels: { 'kubernetes.io/service-name': `svc-${i}`, 'endpointslice.kubernetes.io/managed-by': 'bench.kemu.dev' },
    },
    addressType: 'IPv4',
    endpoints: [{ addresses: [`10.244.${1 + (i >> 8) % 200}.${1 + (i % 250)}`], conditions: { ready: true, serving: true, terminating: false } }],
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  };
}

interface Phase {
  kind: string;
  done: number;
  failed: number;
  firstError?: string;
  seconds: number;
}

/** Runs make(i) for i < count with at most IN_FLIGHT at once; stops taking new work at the deadline. */
async function createAll(client: HttpClient, kind: string, count: number, make: (i: number) => KubeObject, deadline: number, sent: Map<string, number>): Promise<Phase> {
  const r = resource(kind);
  const phase: Phase = { kind, done: 0, failed: 0, seconds: 0 };
  let next = 0;
  const start = performance.now();
  async function worker(): Promise<void> {
    while (next < count && performance.now() < deadline) {
      const obj = make(next++);
      sent.set(obj.metadata.name ?? '', performance.now());
      try {
        await client.create(r, NAMESPACE, obj);
        phase.done++;
      } catch (e) {
        phase.failed++;
        phase.firstError ??= (e as Error).message;
      }
    }
  }
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  phase.seconds = (performance.now() - start) / 1000;
  return phase;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

const SERVER_CHILD_FLAG = '--api-server-child';

/**
 * The API server runs in a child process, as the control plane does in a cluster: its own event
 * loop, so the clients' JSON work in this process does not queue behind the server's.
 */
async function startServerProcess(dir: string, socketPath: string): Promise<{ close(): Promise<void> }> {
  const child = fork(fileURLToPath(import.meta.url), [SERVER_CHILD_FLAG, dir, socketPath], { execArgv: ['--import', 'tsx'] });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`API server process exited with ${code}`)));
  });
  return {
    close: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.send('close');
      // A server that does not finish closing in 5 s is killed: the benchmark must end by itself.
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
    },
  };
}

async function serverProcess(dir: string, socketPath: string): Promise<void> {
  const server = await startApiServer({ storeDir: path.join(dir, 'store'), socketPath, config: defaultClusterConfig('bench') });
  process.once('message', () => void server.close().then(() => process.disconnect()));
  process.send?.('ready');
}

export async function main(): Promise<void> {
  const benchStart = performance.now();
  const deadline = benchStart + ABORT_AFTER_MS;
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kemu-bench-api-'));
  const socketPath = path.join(dir, 'api.sock');
  const server = await startServerProcess(dir, socketPath).catch(async (e: unknown) => {
    await fs.rm(dir, { recursive: true, force: true });
    throw e;
  });
  const client = new HttpClient({ socketPath });
  const services = resource('Service');
  const sent = new Map<string, number>();
  const latencies = new Float64Array(WATCHERS * (OBJECTS_PER_KIND + 1));
  let received = 0;
  const seenWarmup = new Set<number>();

  try {
    const { metadata } = await client.list(services);
    const watches = Array.from({ length: WATCHERS }, (_, w) =>
      client.watch<Service>(services, undefined, { resourceVersion: metadata.resourceVersion }, (e) => {
        if (e.type !== 'ADDED') return;
        const now = performance.now();
        const name = e.object.metadata.name ?? '';
        if (name === 'warmup') seenWarmup.add(w);
        const at = sent.get(name);
        if (at !== undefined && received < latencies.length) latencies[received++] = now - at;
      }),
    );
    for (const [w, h] of watches.entries()) h.done.catch((e: Error) => console.error(`watcher ${w} ended: ${e.message}`));

    // Every watcher must be connected before timing starts: wait until all of them saw one Service.
    await client.create(services, NAMESPACE, { ...service(0), metadata: { name: 'warmup', namespace: NAMESPACE } });
    for (let i = 0; i < 200 && seenWarmup.size < WATCHERS; i++) await sleep(25);

    const writesStart = performance.now();
    const svcPhase = await createAll(client, 'Service', OBJECTS_PER_KIND, service, deadline, sent);
    const epsPhase = await createAll(client, 'EndpointSlice', OBJECTS_PER_KIND, endpointSlice, deadline, sent);
    const writeSeconds = (performance.now() - writesStart) / 1000;

    // Let the watchers drain what is still in flight (bounded).
    const expected = WATCHERS * svcPhase.done;
    for (let i = 0; i < 400 && received < expected && performance.now() < deadline; i++) await sleep(25);
    for (const h of watches) h.stop();

    const sorted = latencies.slice(0, received).sort();
    const totalWrites = svcPhase.done + epsPhase.done;
    const overall = totalWrites / writeSeconds;
    const p50 = percentile(sorted, 50);
    const p99 = percentile(sorted, 99);
    const max = sorted.length ? sorted[sorted.length - 1] : NaN;

    const rows: [string, string][] = [];
    for (const p of [svcPhase, epsPhase]) {
      rows.push([`${p.kind} creates`, `${p.done} ok, ${p.failed} failed in ${p.seconds.toFixed(2)} s = ${(p.done / p.seconds).toFixed(0)} writes/s`]);
      if (p.firstError) rows.push([`${p.kind} first error`, p.firstError]);
    }
    rows.push(['overall', `${totalWrites} writes in ${writeSeconds.toFixed(2)} s = ${overall.toFixed(0)} writes/s (target >= ${TARGET_WRITES_PER_S}: ${overall >= TARGET_WRITES_PER_S ? 'met' : 'MISSED'})`]);
    rows.push(['watch events', `${received} of ${expected} ADDED events to ${WATCHERS} Service watchers`]);
    rows.push(['watch latency p50', `${p50.toFixed(2)} ms`]);
    rows.push(['watch latency p99', `${p99.toFixed(2)} ms (target < ${TARGET_P99_MS}: ${p99 < TARGET_P99_MS ? 'met' : 'MISSED'})`]);
    rows.push(['watch latency max', `${max.toFixed(2)} ms`]);
    if (performance.now() >= deadline) rows.push(['note', `aborted at the ${ABORT_AFTER_MS / 1000} s limit; figures cover what finished`]);

    const width = Math.max(...rows.map(([k]) => k.length));
    console.log(`\nkemu API benchmark (API server in its own process, ${IN_FLIGHT} requests in flight over a Unix socket, ${os.cpus().length} CPUs)`);
    for (const [k, v] of rows) console.log(`  ${k.padEnd(width)}  ${v}`);
    console.log('  latency = from sending the create to a watcher parsing its ADDED event, both in this process (performance.now()),');
    console.log(`  so it includes the create's wait among ${IN_FLIGHT} in flight, the server's durable write and the fan-out to ${WATCHERS} watchers.\n`);
  } finally {
    client.close();
    await server.close();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === SERVER_CHILD_FLAG) {
  void serverProcess(process.argv[3], process.argv[4]);
} else if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
