// The cluster benchmark: how long `kemu up` takes (3 nodes, several runs, with its phases from
// logs/up.log), how long Pods take to start (created -> Running with an IP -> Ready, p50/p99) for
// 100 and 500 pause Pods of a Deployment and 100 agnhost netexec Pods with a readiness probe, the
// memory of each Pod's processes (RSS and PSS from /proc/<pid>/smaps_rollup) and of the node agents
// and the control plane. Needs root and the built CLI (npm run build). Every cluster it makes has
// a unique name and its own underlay, and is torn down; every wait is bounded.
//
// Times come from watch events seen here (ms resolution): "created" is the Pod's ADDED event,
// "running" the first event with phase Running and a podIP, "ready" the first with Ready=True.
// The Pods' own timestamps (RFC 3339, whole seconds) are checked to agree within a second.
//
// Two ways of creating Pods, labelled in the output: a burst (a Deployment of N replicas, all Pods
// created at once: throughput-bound, the p50 is mostly queueing) and a steady rate (bare Pods created
// at STEADY_RATE Pods/s, the way ClusterLoader2 measures Kubernetes' pod-startup SLO: the p50 then
// means the latency of one Pod on a loaded cluster). CPU per Pod is the CPU the cluster's own
// processes used (control plane, node agents with the programs they ran and reaped, the Pods'
// processes) from the first create to the last Ready, divided by the Pods.
//
// Sections can be chosen: `node --import tsx bench/cluster.ts up serial pause100 pause500 steady100 steady500 netexec` (default all).

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { clusterPaths } from '../src/api/cluster.js';
import { HttpClient } from '../src/api/http-client.js';
import { RESOURCES, type ResourceType } from '../src/api/resources.js';
import type { Pod, WatchEvent } from '../src/api/types.js';
import { podNetnsName } from '../src/node/sandbox.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** KEMU_BENCH_CLI runs another build's dist/cli/main.js (e.g. a copy of the tree before a change) to compare them. */
const CLI = process.env.KEMU_BENCH_CLI ?? path.join(repo, 'dist/cli/main.js');
const PODS = RESOURCES.find((r) => r.kind === 'Pod') as ResourceType;
const DEPLOYMENTS = RESOURCES.find((r) => r.kind === 'Deployment') as ResourceType;
const UP_RUNS = 3;
/** Pods/s of the steady-rate scenarios, below what the cluster starts per second in a burst. */
const STEADY_RATE = 10;
const NAMESPACE = 'default';

const stateRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'kemu-bench-cluster-'));
process.env.KEMU_STATE_ROOT = stateRoot;
const suffix = Math.random().toString(36).slice(2, 6);
let clusterSeq = 0;

function kemu(cluster: string, args: string[], timeoutMs = 120_000): string {
  return execFileSync(process.execPath, [CLI, '--cluster', cluster, ...args], { encoding: 'utf8', timeout: timeoutMs, env: process.env });
}

function newCluster(): { name: string; underlay: string } {
  clusterSeq++;
  return { name: `b-${suffix}-${clusterSeq}`, underlay: `172.30.${10 + Math.floor(Math.random() * 200)}.0/24` };
}

const alive = new Set<string>();

function up(workers: number): { name: string; seconds: number } {
  const c = newCluster();
  alive.add(c.name);
  const t0 = performance.now();
  kemu(c.name, ['up', '--nodes', String(workers), '--underlay-cidr', c.underlay]);
  return { name: c.name, seconds: (performance.now() - t0) / 1000 };
}

function down(name: string): void {
  kemu(name, ['down'], 300_000);
  alive.delete(name);
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
const fmt = (ms: number) => (Number.isFinite(ms) ? `${ms.toFixed(0)} ms` : '-');

function table(rows: string[][]): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i]!)).join('  '));
}

interface PodTimes {
  created: number;
  scheduled?: number;
  running?: number;
  ready?: number;
  /** The Pod's own whole-second timestamps: creation and the Ready condition's transition. */
  createdStamp?: string;
  readyStamp?: string;
}

const isReady = (p: Pod) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/** Watches Pods with this label and records when each reached each stage. */
function trackPods(client: HttpClient, selector: string): { times: Map<string, PodTimes>; stop(): void } {
  const times = new Map<string, PodTimes>();
  const handle = client.watch<Pod>(PODS, NAMESPACE, { labelSelector: selector }, (e: WatchEvent<Pod>) => {
    const now = performance.now();
    const pod = e.object;
    const uid = pod.metadata.uid as string;
    if (e.type !== 'ADDED' && e.type !== 'MODIFIED') return;
    let t = times.get(uid);
    if (!t) times.set(uid, (t = { created: now, createdStamp: pod.metadata.creationTimestamp }));
    if (t.scheduled === undefined && pod.spec.nodeName) t.scheduled = now;
    if (t.running === undefined && pod.status?.phase === 'Running' && pod.status.podIP) t.running = now;
    if (t.ready === undefined && isReady(pod)) {
      t.ready = now;
      t.readyStamp = pod.status?.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime;
    }
  });
  return { times, stop: () => handle.stop() };
}

async function waitUntil(what: string, timeoutMs: number, done: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface StartFigures {
  label: string;
  count: number;
  wallSeconds: number;
  scheduled: number[];
  running: number[];
  ready: number[];
  stampsAgree: boolean;
  /** CPU ms the cluster's processes used per Pod from the first create to the last Ready. */
  cpuMsPerPod?: ClusterCpu;
}

async function measureStart(label: string, client: HttpClient, cluster: string, selector: string, count: number, create: () => Promise<void>): Promise<StartFigures> {
  const tracker = trackPods(client, selector);
  await new Promise((r) => setTimeout(r, 100)); // the watch is open before the first create
  const cpu0 = clusterCpuSeconds(cluster, []);
  const t0 = performance.now();
  try {
    await create();
    const readyCount = () => [...tracker.times.values()].filter((t) => t.ready !== undefined).length;
    await waitUntil(`${count} Pods Ready (${label}; ${readyCount()} so far)`, 60_000 + count * 400, () => readyCount() >= count);
  } finally {
    tracker.stop();
  }
  const figures = startFigures(label, count, t0, [...tracker.times.values()]);
  const pods = (await client.list<Pod>(PODS, NAMESPACE, { labelSelector: selector })).items;
  const cpu1 = clusterCpuSeconds(cluster, pods.map((p) => podNetnsName(cluster, p.metadata.uid as string)));
  const perPod = (k: keyof ClusterCpu) => ((cpu1[k] - cpu0[k]) * 1000) / count;
  return { ...figures, cpuMsPerPod: { controlPlane: perPod('controlPlane'), agents: perPod('agents'), programs: perPod('programs'), pods: perPod('pods') } };
}

function startFigures(label: string, count: number, t0: number, all: PodTimes[]): StartFigures {
  const sorted = (f: (t: PodTimes) => number | undefined) => all.map(f).filter((v): v is number => v !== undefined).sort((a, b) => a - b);
  const stampsAgree = all.every((t) => {
    if (!t.createdStamp || !t.readyStamp) return false;
    const own = Date.parse(t.readyStamp) - Date.parse(t.createdStamp);
    return own >= 0 && own <= (t.ready! - t.created) + 1000;
  });
  return {
    label,
    count,
    wallSeconds: (performance.now() - t0) / 1000,
    scheduled: sorted((t) => (t.scheduled !== undefined ? t.scheduled - t.created : undefined)),
    running: sorted((t) => (t.running !== undefined ? t.running - t.created : undefined)),
    ready: sorted((t) => (t.ready !== undefined ? t.ready - t.created : undefined)),
    stampsAgree,
  };
}

const PAUSE_SPEC = { containers: [{ name: 'pause', image: 'registry.k8s.io/pause:3.10' }] };

function pauseDeployment(name: string, replicas: number) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: NAMESPACE },
    spec: {
      replicas,
      selector: { matchLabels: { bench: name } },
      template: { metadata: { labels: { bench: name } }, spec: PAUSE_SPEC },
    },
  };
}

function netexecPod(i: number) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `netexec-${i}`, namespace: NAMESPACE, labels: { bench: 'netexec' } },
    spec: {
      containers: [
        {
          name: 'netexec',
          image: 'registry.k8s.io/e2e-test-images/agnhost:2.53',
          // netexec's /healthz says 200 once its UDP server is up, so the UDP port stays on
          args: ['netexec', '--http-port=8080', '--udp-port=8081'],
          readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1 },
        },
      ],
    },
  };
}

// ---- memory ----

function smapsRollup(pid: number): { rssKiB: number; pssKiB: number } | undefined {
  try {
    const text = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
    return { rssKiB: field('Rss'), pssKiB: field('Pss') };
  } catch {
    return undefined;
  }
}

function pidsInNetns(netns: string): number[] {
  const out = execFileSync('ip', ['netns', 'pids', netns], { encoding: 'utf8' });
  return out.split(/\s+/).filter(Boolean).map(Number);
}

function readPid(file: string): number | undefined {
  try {
    return Number(fs.readFileSync(file, 'utf8').trim()) || undefined;
  } catch {
    return undefined;
  }
}

interface MemoryFigures {
  label: string;
  pods: number;
  rssKiB: number[];
  pssKiB: number[];
}

async function podMemory(label: string, client: HttpClient, cluster: string, selector: string): Promise<MemoryFigures> {
  const pods = (await client.list<Pod>(PODS, NAMESPACE, { labelSelector: selector })).items;
  const rss: number[] = [];
  const pss: number[] = [];
  for (const pod of pods) {
    const usage = pidsInNetns(podNetnsName(cluster, pod.metadata.uid as string))
      .map(smapsRollup)
      .filter((u) => u !== undefined);
    rss.push(usage.reduce((s, u) => s + u.rssKiB, 0));
    pss.push(usage.reduce((s, u) => s + u.pssKiB, 0));
  }
  return { label, pods: pods.length, rssKiB: rss.sort((a, b) => a - b), pssKiB: pss.sort((a, b) => a - b) };
}

/**
 * User + system CPU seconds a process has used (/proc/<pid>/stat fields 14 and 15, at 100 ticks/s),
 * with reapedChildren also those of the children it has waited for (fields 16 and 17).
 */
function cpuSeconds(pid: number, reapedChildren = false): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
    const own = fields[11]! + fields[12]!;
    return (reapedChildren ? own + fields[13]! + fields[14]! : own) / 100;
  } catch {
    return undefined;
  }
}

interface ClusterCpu {
  controlPlane: number;
  /** The node agents' own threads: kubelet, CNI helper, flannel, kube-proxy. */
  agents: number;
  /** Programs the agents ran and reaped: ip, unshare, nsenter, kemu-cni, … */
  programs: number;
  /** The processes living in the Pods (container processes, and what they reaped). */
  pods: number;
}

const cpuTotal = (c: ClusterCpu) => c.controlPlane + c.agents + c.programs + c.pods;

/**
 * CPU seconds used so far by the cluster's own processes, with each daemon's reaped children, plus
 * the processes living in the given Pod namespaces. Other load on the machine is not counted.
 */
function clusterCpuSeconds(cluster: string, podNetns: string[]): ClusterCpu {
  const paths = clusterPaths(cluster);
  const nodesDir = path.join(paths.dir, 'nodes');
  const agents = fs.readdirSync(nodesDir).map((n) => readPid(path.join(nodesDir, n, 'agent.pid')));
  const sum = (pids: (number | undefined)[], children: boolean) => pids.reduce<number>((s, pid) => s + (pid !== undefined ? cpuSeconds(pid, children) ?? 0 : 0), 0);
  const controlPlane = sum([readPid(paths.controlPlanePid)], true);
  const agentsOwn = sum(agents, false);
  return { controlPlane, agents: agentsOwn, programs: sum(agents, true) - agentsOwn, pods: sum(podNetns.flatMap(pidsInNetns), true) };
}

function componentRow(label: string, pid: number | undefined): string[] {
  const use = pid !== undefined ? smapsRollup(pid) : undefined;
  const cpu = pid !== undefined ? cpuSeconds(pid) : undefined;
  const mib = (kib: number | undefined) => (kib !== undefined ? `${(kib / 1024).toFixed(1)} MiB` : '-');
  return [label, mib(use?.rssKiB), mib(use?.pssKiB), cpu !== undefined ? `${cpu.toFixed(1)} s` : '-'];
}

/** Memory and CPU used so far (since `up`) by the control plane and each node agent. */
function componentUsage(cluster: string): string[][] {
  const paths = clusterPaths(cluster);
  const nodesDir = path.join(paths.dir, 'nodes');
  return [
    componentRow('control plane', readPid(paths.controlPlanePid)),
    ...fs
      .readdirSync(nodesDir)
      .sort()
      .map((node) => componentRow(`node agent ${node}`, readPid(path.join(nodesDir, node, 'agent.pid')))),
  ];
}

// ---- scenarios ----

async function withCluster<T>(workers: number, body: (cluster: string, client: HttpClient) => Promise<T>): Promise<T> {
  const { name } = up(workers);
  const client = new HttpClient({ socketPath: clusterPaths(name).apiSocket });
  try {
    return await body(name, client);
  } finally {
    client.close();
    down(name);
  }
}

async function pauseScenario(replicas: number, workers: number): Promise<{ start: StartFigures; memory: MemoryFigures; components: string[][] }> {
  return withCluster(workers, async (cluster, client) => {
    const name = `pause-${replicas}`;
    const start = await measureStart(`burst: ${replicas} pause Pods at once (Deployment, ${workers + 1} nodes)`, client, cluster, `bench=${name}`, replicas, async () => {
      await client.create(DEPLOYMENTS, NAMESPACE, pauseDeployment(name, replicas));
    });
    const memory = await podMemory(`pause (${replicas} Pods)`, client, cluster, `bench=${name}`);
    return { start, memory, components: componentUsage(cluster) };
  });
}

/** Bare pause Pods created at a steady rate (ClusterLoader2's way of measuring the pod-startup SLO). */
async function steadyScenario(count: number, workers: number): Promise<{ start: StartFigures; components: string[][] }> {
  return withCluster(workers, async (cluster, client) => {
    const label = `steady: ${count} pause Pods at ${STEADY_RATE} Pods/s (${workers + 1} nodes)`;
    const start = await measureStart(label, client, cluster, 'bench=steady', count, async () => {
      const t0 = performance.now();
      const creates: Promise<unknown>[] = [];
      let failed: unknown;
      for (let i = 0; i < count && failed === undefined; i++) {
        const due = t0 + (i * 1000) / STEADY_RATE;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: `steady-${i}`, namespace: NAMESPACE, labels: { bench: 'steady' } }, spec: PAUSE_SPEC };
        // not awaited (the next one is due on time), but a failure stops the loop instead of crashing it
        creates.push(client.create(PODS, NAMESPACE, pod).catch((e: unknown) => (failed ??= e)));
      }
      await Promise.all(creates);
      if (failed !== undefined) throw failed;
    });
    return { start, components: componentUsage(cluster) };
  });
}

/** Pods created one at a time, each after the previous one is Ready: latency without queueing. */
async function serialScenario(count: number): Promise<StartFigures> {
  return withCluster(2, async (_cluster, client) => {
    const tracker = trackPods(client, 'bench=serial');
    await new Promise((r) => setTimeout(r, 100));
    const t0 = performance.now();
    try {
      for (let i = 0; i < count; i++) {
        const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: `serial-${i}`, namespace: NAMESPACE, labels: { bench: 'serial' } }, spec: PAUSE_SPEC };
        const created = await client.create<Pod>(PODS, NAMESPACE, pod as Pod);
        await waitUntil(`Pod serial-${i} Ready`, 30_000, () => tracker.times.get(created.metadata.uid as string)?.ready !== undefined);
      }
    } finally {
      tracker.stop();
    }
    return startFigures(`${count} pause Pods one at a time (3 nodes)`, count, t0, [...tracker.times.values()]);
  });
}

async function netexecScenario(count: number): Promise<{ start: StartFigures; memory: MemoryFigures }> {
  return withCluster(2, async (cluster, client) => {
    const start = await measureStart(`burst: ${count} agnhost netexec Pods at once (readiness probe, 3 nodes)`, client, cluster, 'bench=netexec', count, async () => {
      await Promise.all(Array.from({ length: count }, (_, i) => client.create(PODS, NAMESPACE, netexecPod(i))));
    });
    const memory = await podMemory(`agnhost netexec (${count} Pods)`, client, cluster, 'bench=netexec');
    return { start, memory };
  });
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log('bench/cluster.ts: skipped (needs root: it builds real clusters)');
    return;
  }
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npm run build)`);

  const only = process.argv.slice(2);
  const wanted = (section: string) => only.length === 0 || only.includes(section);
  // each section prints as soon as it is done, so a later failure loses nothing measured
  if (wanted('up')) upSection();
  if (wanted('serial')) printStarts([await serialScenario(20)]);
  if (wanted('pause100')) printPause(await pauseScenario(100, 2), '100 pause Pods running (3 nodes)');
  // 500 Pods need 5 nodes: a node takes at most 110 Pods, as a kubelet's default maxPods
  if (wanted('pause500')) printPause(await pauseScenario(500, 4), '500 pause Pods running (5 nodes)');
  if (wanted('steady100')) printStarts([(await steadyScenario(100, 2)).start]);
  if (wanted('steady500')) printStarts([(await steadyScenario(500, 4)).start]);
  if (wanted('netexec')) {
    const netexec = await netexecScenario(100);
    printStarts([netexec.start]);
    printMemory([netexec.memory]);
  }
}

function printPause(result: { start: StartFigures; memory: MemoryFigures; components: string[][] }, components: string): void {
  printStarts([result.start]);
  printMemory([result.memory]);
  console.log(`\ncomponents with ${components}`);
  table([['process', 'RSS', 'PSS', 'CPU since up'], ...result.components]);
}

function upSection(): void {
  const upSeconds: number[] = [];
  let phases = '';
  for (let i = 0; i < UP_RUNS; i++) {
    const { name, seconds } = up(2);
    upSeconds.push(seconds);
    phases = fs.readFileSync(path.join(clusterPaths(name).logDir, 'up.log'), 'utf8');
    down(name);
  }
  console.log(`\nkemu up, 3 nodes (control plane + 2 workers), ${UP_RUNS} runs (target <= 3 s)`);
  table([['run', ...upSeconds.map((_, i) => String(i + 1))], ['seconds', ...upSeconds.map((s) => s.toFixed(2))]]);
  console.log('\nphases of the last run (logs/up.log):');
  console.log(phases.trimEnd().replace(/^/gm, '  '));
}

function printStarts(starts: StartFigures[]): void {
  console.log('\nPod start latency, from watch events (target p50 <= 100 ms)');
  const startRows = [['scenario', 'Pods', 'wall', 'bound p50', 'running p50', 'running p99', 'ready p50', 'ready p99', 'CPU/Pod', 'own stamps agree']];
  for (const s of starts) {
    startRows.push([
      s.label,
      String(s.count),
      `${s.wallSeconds.toFixed(1)} s`,
      fmt(percentile(s.scheduled, 50)),
      fmt(percentile(s.running, 50)),
      fmt(percentile(s.running, 99)),
      fmt(percentile(s.ready, 50)),
      fmt(percentile(s.ready, 99)),
      s.cpuMsPerPod !== undefined ? `${cpuTotal(s.cpuMsPerPod).toFixed(0)} ms` : '-',
      s.stampsAgree ? 'yes' : 'NO',
    ]);
  }
  table(startRows);
  const withCpu = starts.filter((s) => s.cpuMsPerPod !== undefined);
  if (withCpu.length === 0) return;
  console.log('\nCPU per Pod, first create to last Ready (ms)');
  const ms = (v: number) => v.toFixed(1);
  table([
    ['scenario', 'control plane', 'node agents', 'programs they ran', 'Pod processes', 'total'],
    ...withCpu.map((s) => { const c = s.cpuMsPerPod!; return [s.label, ms(c.controlPlane), ms(c.agents), ms(c.programs), ms(c.pods), ms(cpuTotal(c))]; }),
  ]);
}

function printMemory(memories: MemoryFigures[]): void {

  console.log('\nmemory per Pod (all processes in the Pod\'s network namespace, /proc/<pid>/smaps_rollup)');
  const memRows = [['Pods', 'count', 'RSS p50', 'RSS max', 'PSS p50', 'PSS max']];
  for (const m of memories) {
    memRows.push([m.label, String(m.pods), `${percentile(m.rssKiB, 50)} KiB`, `${m.rssKiB.at(-1) ?? 0} KiB`, `${percentile(m.pssKiB, 50)} KiB`, `${m.pssKiB.at(-1) ?? 0} KiB`]);
  }
  table(memRows);
}

try {
  await main();
} finally {
  for (const name of alive) {
    try {
      down(name);
    } catch (e) {
      console.error(`cleanup of ${name} failed: ${(e as Error).message}`);
    }
  }
  fs.rmSync(stateRoot, { recursive: true, force: true });
}
