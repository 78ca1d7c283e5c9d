// kube-proxy benchmark (issue 4). Prints three tables; never fails on a missed aim.
//  1. Rule generation, builder only (trackers + builder, no kernel): N Services x 10 endpoints,
//     a full sync and a one-endpoint partial sync, iptables and nftables.
//  2. Sync latency to the kernel: a scratch node namespace, an in-process API server and
//     startKubeProxy; the initial (full) sync of N Services (until kube-proxy's /metrics reports a
//     successful sync), then KEMU_BENCH_KP_CHANGES one-endpoint changes (each to another Service),
//     each timed from the API update until the kernel announces the new endpoint's chain. The
//     kernel is watched with `nft monitor new chains` in the node (iptables-nft rules are nftables
//     objects too), started while the namespace is still empty: listing a 10,000-Service table
//     costs seconds per call and would compete with the sync it times. Aims at 10,000 Services:
//     <= 100 ms nftables, <= 1 s iptables. KEMU_BENCH_KP_KERNEL (default 10,000) picks N,
//     KEMU_BENCH_KP_MODES (default iptables,nftables) the modes. The full nftables load is one
//     transaction, as upstream sends it, and costs minutes on this kernel (baselines.md finding 6).
//  3. ClusterIP throughput against the Pod IP, iperf3 -t 3, client and server Pods on the node's bridge.
//     Aim: ClusterIP >= 0.95x direct.
// Root for 2 and 3; namespaces are named kemut-bkp-<random> and removed at the end.

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultClusterConfig } from '../src/api/cluster.js';
import { HttpClient } from '../src/api/http-client.js';
import { RESOURCES, type ResourceType } from '../src/api/resources.js';
import { startApiServer } from '../src/api/server/apiserver.js';
import type { EndpointSlice, Node, Service } from '../src/api/types.js';
import { endpointChainName } from '../src/proxy/iptables/chain-names.js';
import { masqueradeMarkForBit } from '../src/proxy/iptables/config.js';
import { endpointObjectNames } from '../src/proxy/nftables/names.js';
import { IptablesProxier } from '../src/proxy/iptables/proxier.js';
import { NftablesProxier } from '../src/proxy/nftables/proxier.js';
import { startKubeProxy } from '../src/proxy/run.js';
import { exec } from '../src/sys/exec.js';
import { ipBatch } from '../src/sys/iproute.js';
import { argvIn, createNetns, deleteNetns, execIn } from '../src/sys/netns.js';

const kind = (k: string) => RESOURCES.find((r) => r.kind === k) as ResourceType;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ENDPOINTS = 10;
const KERNEL_SERVICES = Number(process.env.KEMU_BENCH_KP_KERNEL ?? 10_000);
const CHANGES = Number(process.env.KEMU_BENCH_KP_CHANGES ?? 20);
/** No step of the kernel table may run longer than this (the bench stays bounded). */
const STEP_BUDGET_MS = Number(process.env.KEMU_BENCH_KP_BUDGET_MS ?? 900_000);

function service(i: number): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: `svc-${i}`, namespace: 'bench', uid: `uid-${i}`, resourceVersion: '1' },
    spec: {
      type: 'ClusterIP',
      clusterIP: `10.${96 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`,
      ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }],
    },
  };
}

/** Service i's slice; shift moves the endpoint window (shift 1: endpoint 0 gone, a new one added). */
function endpointSlice(i: number, node: string, shift = 0): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `svc-${i}-abcde`, namespace: 'bench', labels: { 'kubernetes.io/service-name': `svc-${i}` }, resourceVersion: '1' },
    addressType: 'IPv4',
    endpoints: Array.from({ length: ENDPOINTS }, (_, e) => ({
      addresses: [uniqueIP(i, e + shift)],
      conditions: { ready: true, serving: true, terminating: false },
      nodeName: node,
    })),
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  };
}

/** Endpoint e of Service i: distinct for every (i, e) up to 65,536 x 16. */
function uniqueIP(i: number, e: number): string {
  const n = i * 16 + (e % 16);
  return `10.${200 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`;
}

const common = (nodeName: string) => ({
  ipFamily: 'IPv4' as const,
  nodeName,
  nodeIP: '10.244.1.1',
  masqueradeAll: false,
  masqueradeMark: masqueradeMarkForBit(14),
  clusterCIDR: '10.244.0.0/16',
  nodePortAddresses: null,
  hostAddresses: ['10.244.1.1'],
  syncPeriodMs: 30_000,
});

function table(title: string, head: string[], rows: string[][]): void {
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((s, c) => (c === 0 ? s.padEnd(widths[c]!) : s.padStart(widths[c]!))).join(' | ')} |`;
  console.log(`\n${title}\n${line(head)}\n|${widths.map((w, c) => (c === 0 ? ':' : '-') + '-'.repeat(w) + (c === 0 ? '-' : ':')).join('|')}|`);
  for (const r of rows) console.log(line(r));
}

const ms = (t: number) => `${t.toFixed(t < 10 ? 1 : 0)} ms`;

/** 1. Builder only: what one sync costs in JavaScript before anything reaches the kernel. */
async function generation(): Promise<void> {
  const rows: string[][] = [];
  for (const n of [1000, 10_000]) {
    for (const mode of ['iptables', 'nftables'] as const) {
      const proxier =
        mode === 'iptables'
          ? new IptablesProxier(
              { ...common('bench-node'), localhostNodePorts: false, conntrackTCPLiberal: false, randomFully: true, nfacct: { ctStateInvalidDropped: false, localhostNodePortsAccepted: false } },
              { listChains: async () => [], restore: async () => {}, ensureChain: async () => {}, ensureRuleFirst: async () => {} },
            )
          : new NftablesProxier(
              { ...common('bench-node'), serviceCIDRs: ['10.96.0.0/12'] },
              { listChains: async () => [], listSets: async () => [], listElements: async () => undefined, run: async () => {} },
            );
      const slices: EndpointSlice[] = [];
      for (let i = 0; i < n; i++) {
        proxier.onServiceAdd(service(i));
        slices.push(endpointSlice(i, 'bench-node'));
        proxier.onEndpointSliceAdd(slices[i]!);
      }
      let t = performance.now();
      const full = await proxier.sync();
      const fullMs = performance.now() - t;
      const changed = endpointSlice(n >> 1, 'bench-node', 1);
      proxier.onEndpointSliceUpdate(slices[n >> 1]!, changed);
      t = performance.now();
      await proxier.sync();
      const partialMs = performance.now() - t;
      const size = 'restore' in full ? `${(full.restore.length / 1e6).toFixed(1)} MB text` : `${full.operations} ops`;
      rows.push([`${mode} ${n.toLocaleString('en')} x ${ENDPOINTS}`, ms(fullMs), size, ms(partialMs)]);
    }
  }
  table('Rule generation (trackers + builder, no kernel)', ['case', 'full sync build', 'output', 'one endpoint changed'], rows);
}

interface Scratch {
  node: string;
  client: string;
  server: string;
  children: ChildProcess[];
}

async function createScratch(prefix: string): Promise<Scratch> {
  const s: Scratch = { node: `${prefix}-n`, client: `${prefix}-c`, server: `${prefix}-s`, children: [] };
  for (const ns of [s.node, s.client, s.server]) await createNetns(ns);
  await ipBatch(s.node, [
    { args: ['link', 'set', 'lo', 'up'] },
    { args: ['link', 'add', 'cni0', 'type', 'bridge'] },
    { args: ['addr', 'add', '10.244.1.1/24', 'dev', 'cni0'] },
    { args: ['link', 'set', 'cni0', 'up'] },
    { args: ['link', 'add', 'vc', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', s.client] },
    { args: ['link', 'set', 'vc', 'master', 'cni0', 'up'] },
    { args: ['link', 'add', 'vs', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', s.server] },
    { args: ['link', 'set', 'vs', 'master', 'cni0', 'up'] },
  ]);
  await execIn(s.node, 'sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1']);
  for (const [ns, ip] of [[s.client, '10.244.1.2/24'], [s.server, '10.244.1.3/24']] as const) {
    await ipBatch(ns, [
      { args: ['link', 'set', 'lo', 'up'] },
      { args: ['addr', 'add', ip, 'dev', 'eth0'] },
      { args: ['link', 'set', 'eth0', 'up'] },
      { args: ['route', 'add', 'default', 'via', '10.244.1.1'] },
    ]);
  }
  return s;
}

/** The endpoint chain kube-proxy writes for endpoint ip:8080 of Service i. */
function endpointChain(mode: 'iptables' | 'nftables', i: number, ip: string): string {
  return mode === 'iptables'
    ? endpointChainName(`bench/svc-${i}:http`, 'TCP', `${ip}:8080`)
    : endpointObjectNames({ namespace: 'bench', name: `svc-${i}`, portName: 'http', protocol: 'TCP' }, ip, 8080).chain;
}

/** When each chain was created in a namespace, as `nft monitor new chains` announces it. */
class ChainWatch {
  private readonly seen = new Map<string, number>();
  private readonly waiters = new Map<string, () => void>();
  private readonly child: ChildProcess;

  constructor(ns: string) {
    // stdbuf: one line per event, not a pipe's block buffer.
    const [cmd, args] = argvIn(ns, 'stdbuf', ['-oL', 'nft', 'monitor', 'new', 'chains']);
    this.child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let partial = '';
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      const now = performance.now();
      const lines = (partial + chunk).split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        // "add chain ip kube-proxy NAME" (nft) or "create chain ip nat NAME" (iptables-nft).
        const name = /^(?:add|create) chain \S+ \S+ (\S+)/.exec(line)?.[1];
        if (name !== undefined) {
          this.seen.set(name, now);
          this.waiters.get(name)?.();
        }
      }
    });
  }

  /** When the chain appeared (performance.now()), or undefined if not within budgetMs. */
  async waitFor(chain: string, budgetMs: number): Promise<number | undefined> {
    if (!this.seen.has(chain)) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, budgetMs);
        this.waiters.set(chain, () => (clearTimeout(timer), resolve()));
      });
      this.waiters.delete(chain);
    }
    return this.seen.get(chain);
  }

  stop(): void {
    if (this.child.pid !== undefined && this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

/**
 * f(), once more after ECONNRESET: after minutes of full sync the API server has closed the idle
 * keep-alive connection the client is about to reuse (the request never reached it).
 */
async function retryReset<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ECONNRESET') throw e;
    return f();
  }
}

/**
 * When kube-proxy's first sync succeeded (performance.now(), polled every 250 ms from its /metrics
 * in the node), or undefined if not within budgetMs. The chain monitor cannot tell: the full load's
 * burst of events overruns its socket buffer.
 */
async function firstSyncDone(node: string, budgetMs: number): Promise<number | undefined> {
  for (const end = performance.now() + budgetMs; performance.now() < end; await sleep(250)) {
    const r = await execIn(node, 'curl', ['-sS', '--max-time', '2', 'http://127.0.0.1:10249/metrics'], { allowFailure: true, timeoutMs: 10_000 });
    const last = /^kubeproxy_sync_proxy_rules_last_timestamp_seconds (\S+)$/m.exec(r.stdout)?.[1];
    if (last !== undefined && Number(last) > 0) return performance.now();
  }
  return undefined;
}

/** Nearest-rank percentile of unsorted samples. */
function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((x, y) => x - y);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** 2 and 3 for one mode, in one scratch node. */
async function kernel(mode: 'iptables' | 'nftables', syncRows: string[][], tputRows: string[][]): Promise<void> {
  const prefix = `kemut-bkp-${randomBytes(3).toString('hex')}`;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kemu-bench-kp-'));
  const s = await createScratch(prefix);
  const config = defaultClusterConfig(prefix);
  const api = await startApiServer({ storeDir: path.join(tmp, 'store'), socketPath: path.join(tmp, 'api.sock'), config });
  const client = new HttpClient({ socketPath: path.join(tmp, 'api.sock') });
  let proxy: Awaited<ReturnType<typeof startKubeProxy>> | undefined;
  let watch: ChainWatch | undefined;
  try {
    await client.create<Node>(kind('Node'), undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: s.node }, status: { addresses: [{ type: 'InternalIP', address: '10.244.1.1' }] } });
    await client.create(kind('Namespace'), undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } });
    // The iperf3 Service first (its endpoint is the server Pod), then the bulk.
    const perf = await client.create<Service>(kind('Service'), 'bench', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'iperf', namespace: 'bench' }, spec: { ports: [{ name: 'iperf', port: 5201, targetPort: 5201, protocol: 'TCP' }] } });
    await client.create<EndpointSlice>(kind('EndpointSlice'), 'bench', {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'iperf-x', namespace: 'bench', labels: { 'kubernetes.io/service-name': 'iperf' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['10.244.1.3'], conditions: { ready: true, serving: true, terminating: false }, nodeName: s.node }],
      ports: [{ name: 'iperf', port: 5201, protocol: 'TCP' }],
    });
    const strip = <T extends { metadata: { uid?: string; resourceVersion?: string } }>(o: T): T => ({ ...o, metadata: { ...o.metadata, uid: undefined, resourceVersion: undefined } });
    for (let i = 1; i <= KERNEL_SERVICES; i++) {
      const svc = strip(service(i));
      delete svc.spec.clusterIP; // the allocator picks it
      await client.create(kind('Service'), 'bench', svc);
      await client.create(kind('EndpointSlice'), 'bench', strip(endpointSlice(i, s.node)));
    }

    watch = new ChainWatch(s.node);
    await sleep(300); // the monitor subscribes before kube-proxy writes anything
    const started = performance.now();
    proxy = await startKubeProxy({ client, nodeName: s.node, config, mode, netns: s.node, minSyncPeriodMs: 0, log: () => {} });
    const fullAt = await firstSyncDone(s.node, STEP_BUDGET_MS);
    const fullMs = fullAt === undefined ? undefined : fullAt - started;

    const latencies: number[] = [];
    for (let c = 0; fullAt !== undefined && c < Math.min(CHANGES, KERNEL_SERVICES); c++) {
      await sleep(200); // let the previous sync (and its deferred chain deletion) settle
      const i = 1 + ((c * 7919) % KERNEL_SERVICES); // a different Service each time
      const live = await retryReset(() => client.get<EndpointSlice>(kind('EndpointSlice'), 'bench', `svc-${i}-abcde`));
      const moved = uniqueIP(i, 15);
      live.endpoints[0]!.addresses = [moved];
      const t = performance.now();
      await retryReset(() => client.update(kind('EndpointSlice'), 'bench', live));
      const seen = await watch.waitFor(endpointChain(mode, i, moved), 30_000);
      if (seen === undefined) break;
      latencies.push(seen - t);
    }
    const aim = mode === 'nftables' ? 100 : 1000;
    syncRows.push([
      `${mode} ${KERNEL_SERVICES.toLocaleString('en')} x ${ENDPOINTS}`,
      fullMs === undefined ? `> ${STEP_BUDGET_MS / 1000} s (stopped)` : ms(fullMs),
      latencies.length === 0 ? 'not measured' : `${ms(percentile(latencies, 50))} / ${ms(percentile(latencies, 99))} (n=${latencies.length})`,
      KERNEL_SERVICES >= 10_000 ? `<= ${aim} ms` : `<= ${aim} ms at 10,000`,
    ]);
    console.log(`${syncRows.at(-1)!.join(' | ')}`); // kept if a later step fails

    if (fullAt !== undefined) await throughput(mode, s, perf.spec.clusterIP!, tputRows);
  } finally {
    for (const c of s.children) if (c.pid && c.exitCode === null) process.kill(c.pid, 'SIGKILL');
    watch?.stop();
    await proxy?.stop().catch(() => {});
    client.close();
    await api.close();
    for (const ns of [s.client, s.server, s.node]) await deleteNetns(ns).catch((e: Error) => console.error(`bench cleanup: ${e.message}`));
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

async function iperf(ns: string, target: string): Promise<number> {
  const r = await execIn(ns, 'iperf3', ['-c', target, '-t', '3', '-J'], { timeoutMs: 20_000 });
  const doc = JSON.parse(r.stdout) as { end: { sum_received: { bits_per_second: number } } };
  return doc.end.sum_received.bits_per_second / 1e9;
}

async function throughput(mode: string, s: Scratch, clusterIP: string, rows: string[][]): Promise<void> {
  if ((await exec('sh', ['-c', 'command -v iperf3'], { allowFailure: true })).code !== 0) {
    rows.push([mode, 'iperf3 not installed (scripts/bootstrap.sh installs it)', '', '']);
    return;
  }
  const [cmd, args] = argvIn(s.server, 'iperf3', ['-s']);
  s.children.push(spawn(cmd, args, { stdio: 'ignore' }));
  await sleep(300);
  // Alternate the two, twice each, and keep the better run of each (the machine is shared).
  const direct: number[] = [];
  const viaService: number[] = [];
  for (let i = 0; i < 2; i++) {
    direct.push(await iperf(s.client, '10.244.1.3'));
    viaService.push(await iperf(s.client, clusterIP));
  }
  const d = Math.max(...direct);
  const c = Math.max(...viaService);
  rows.push([mode, `${d.toFixed(2)} Gbit/s`, `${c.toFixed(2)} Gbit/s`, `${(c / d).toFixed(3)}x (aim >= 0.95x)`]);
}

await generation();
if (process.getuid?.() !== 0) {
  console.log('\nkernel sync latency and throughput need root: skipped');
} else {
  const syncRows: string[][] = [];
  const tputRows: string[][] = [];
  const modes = (process.env.KEMU_BENCH_KP_MODES ?? 'iptables,nftables').split(',') as ('iptables' | 'nftables')[];
  for (const mode of modes) await kernel(mode, syncRows, tputRows);
  table(
    `Sync to the kernel (scratch node, in-process API, startKubeProxy; KEMU_BENCH_KP_KERNEL=${KERNEL_SERVICES})`,
    ['case', 'initial full sync', 'one endpoint change, API -> kernel, p50 / p99', 'aim'],
    syncRows,
  );
  table('ClusterIP throughput vs Pod IP (iperf3 -t 3, 1 stream, same node, best of 2)', ['mode', 'Pod IP', 'ClusterIP', 'ratio'], tputRows);
}
