// kube-proxy benchmark (issue 4). Prints three tables; never fails on a missed aim.
//  1. Rule generation, builder only (trackers + builder, no kernel): N Services x 10 endpoints,
//     a full sync and a one-endpoint partial sync, iptables and nftables.
//  2. Sync latency to the kernel: a scratch node namespace, an in-process API server and
//     startKubeProxy; the initial (full) sync of N Services, then one endpoint change from the API
//     update until the new endpoint is in the kernel (its endpoint chain, listed by name). Aims at
//     10,000 Services: <= 100 ms nftables, <= 1 s iptables. The full nftables load at 10,000 takes
//     minutes on this kernel (research/baselines.md: 150-170 s; iptables' full sync is a plain
//     restore, ~13 s), so KEMU_BENCH_KP_KERNEL (default 1000) picks N.
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
const KERNEL_SERVICES = Number(process.env.KEMU_BENCH_KP_KERNEL ?? 1000);
/** No step of the kernel table may run longer than this (the bench stays bounded). */
const STEP_BUDGET_MS = Number(process.env.KEMU_BENCH_KP_BUDGET_MS ?? 300_000);

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

/**
 * Whether the node's kernel has the endpoint chain of Service i's endpoint ip:8080, listed by name
 * (a listing of the whole table takes seconds at 10,000 Services).
 */
async function kernelHas(mode: 'iptables' | 'nftables', node: string, i: number, ip: string): Promise<boolean> {
  const [cmd, args, needle] =
    mode === 'iptables'
      ? ['iptables', ['-w', '5', '-t', 'nat', '-S', endpointChainName(`bench/svc-${i}:http`, 'TCP', `${ip}:8080`)], `${ip}:8080`]
      : ['nft', ['list', 'chain', 'ip', 'kube-proxy', endpointObjectNames({ namespace: 'bench', name: `svc-${i}`, portName: 'http', protocol: 'TCP' }, ip, 8080).chain], `${ip}:8080`];
  return (await execIn(node, cmd, args, { allowFailure: true, timeoutMs: 60_000 })).stdout.includes(needle);
}

async function until(check: () => Promise<boolean>, budgetMs: number, everyMs: number): Promise<number | undefined> {
  const start = performance.now();
  while (performance.now() - start < budgetMs) {
    if (await check()) return performance.now() - start;
    await sleep(everyMs);
  }
  return undefined;
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

    const started = performance.now();
    proxy = await startKubeProxy({ client, nodeName: s.node, config, mode, netns: s.node, minSyncPeriodMs: 0, log: () => {} });
    const lastEndpoint = uniqueIP(KERNEL_SERVICES, ENDPOINTS - 1);
    const full = await until(() => kernelHas(mode, s.node, KERNEL_SERVICES, lastEndpoint), STEP_BUDGET_MS, 100);
    const fullMs = full === undefined ? undefined : performance.now() - started;

    let oneChange: number | undefined;
    if (full !== undefined) {
      const name = `svc-${KERNEL_SERVICES >> 1}-abcde`;
      const live = await client.get<EndpointSlice>(kind('EndpointSlice'), 'bench', name);
      const moved = uniqueIP(KERNEL_SERVICES >> 1, 15);
      live.endpoints[0]!.addresses = [moved];
      const t = performance.now();
      await client.update(kind('EndpointSlice'), 'bench', live);
      const seen = await until(() => kernelHas(mode, s.node, KERNEL_SERVICES >> 1, moved), 30_000, 5);
      oneChange = seen === undefined ? undefined : performance.now() - t;
    }
    const aim = mode === 'nftables' ? 100 : 1000;
    syncRows.push([
      `${mode} ${KERNEL_SERVICES.toLocaleString('en')} x ${ENDPOINTS}`,
      fullMs === undefined ? `> ${STEP_BUDGET_MS / 1000} s (stopped)` : ms(fullMs),
      oneChange === undefined ? 'not measured' : ms(oneChange),
      KERNEL_SERVICES >= 10_000 ? `<= ${aim} ms` : `<= ${aim} ms at 10,000`,
    ]);

    if (full !== undefined) await throughput(mode, s, perf.spec.clusterIP!, tputRows);
  } finally {
    for (const c of s.children) if (c.pid && c.exitCode === null) process.kill(c.pid, 'SIGKILL');
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
  for (const mode of ['iptables', 'nftables'] as const) await kernel(mode, syncRows, tputRows);
  table(
    `Sync to the kernel (scratch node, in-process API, startKubeProxy; KEMU_BENCH_KP_KERNEL=${KERNEL_SERVICES})`,
    ['case', 'initial full sync', 'one endpoint change, API -> kernel', 'aim'],
    syncRows,
  );
  table('ClusterIP throughput vs Pod IP (iperf3 -t 3, 1 stream, same node, best of 2)', ['mode', 'Pod IP', 'ClusterIP', 'ratio'], tputRows);
}
