// Cluster DNS throughput: dnsperf against kemu's DNS server (kubeadm's Corefile, a static zone of
// 1,000 Services) and against Knot DNS serving the same records from a zone file, in the same run.
// The query mix is what Pods send: hits (A, SRV), AAAA for IPv4-only Services (NODATA), names of
// Services that do not exist (NXDOMAIN) and search-list misses (`svc.ns.<own ns>.svc...`).
// Prints max QPS, p50/p99 latency and the server's memory; never fails on a missed target.
// Loopback only; every server is started here and stopped by its PID.
//
//   node --import tsx bench/dns.ts     (no root needed; dnsperf and taskset, knotd for the comparison)

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import cluster from 'node:cluster';
import { createSocket } from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Namespace, Service } from '../src/api/types.js';
import { StaticZoneSource, type ZoneObjects } from '../src/dns/kubernetes/source.js';
import { startClusterDns } from '../src/dns/main.js';

const SERVICES = 1_000;
const NAMESPACES = 10;
const QUERY_LINES = 20_000;
const WARMUP_S = 2;
const RUN_S = 8;
const TARGET_QPS = 30_000;
const HERE = fileURLToPath(import.meta.url);

const svcName = (i: number): string => `svc-${i % (SERVICES / NAMESPACES)}`;
const nsName = (i: number): string => `ns-${Math.floor(i / (SERVICES / NAMESPACES))}`;
const clusterIP = (i: number): string => `10.96.${1 + (i >> 8)}.${i & 0xff}`;

function zoneObjects(): ZoneObjects {
  const namespaces: Namespace[] = Array.from({ length: NAMESPACES }, (_, n) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: `ns-${n}` } }));
  const services: Service[] = Array.from({ length: SERVICES }, (_, i) => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: svcName(i), namespace: nsName(i) },
    spec: { type: 'ClusterIP', clusterIP: clusterIP(i), clusterIPs: [clusterIP(i)], ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
  }));
  return { namespaces, services, endpointSlices: [], pods: [] };
}

/** kubeadm's Corefile, with the HTTP listeners on free loopback ports and no upstream in use. */
function corefile(): string {
  return `.:53 {
    errors
    health 127.0.0.1:0
    ready 127.0.0.1:0
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus 127.0.0.1:0
    forward . 127.0.0.1:9
    cache 30
    loop
    reload
    loadbalance
}
`;
}

/** Knot's zone file with the records kemu's kubernetes plugin answers for the same objects. */
function zoneFile(): string {
  const lines = ['$ORIGIN cluster.local.', '$TTL 30', '@ 5 SOA ns.dns.cluster.local. hostmaster.cluster.local. 1 7200 1800 86400 5', '@ NS ns.dns', 'ns.dns A 10.96.0.10'];
  for (let i = 0; i < SERVICES; i++) {
    const owner = `${svcName(i)}.${nsName(i)}.svc`;
    lines.push(`${owner} A ${clusterIP(i)}`, `_http._tcp.${owner} SRV 0 100 80 ${owner}.cluster.local.`);
  }
  return `${lines.join('\n')}\n`;
}

/** A deterministic pseudo-random query mix (same file for every server). */
function queryFile(): string {
  let seed = 42;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const out: string[] = [];
  for (let k = 0; k < QUERY_LINES; k++) {
    const i = rnd(SERVICES);
    const name = `${svcName(i)}.${nsName(i)}.svc.cluster.local`;
    const roll = rnd(100);
    if (roll < 50) out.push(`${name} A`);
    else if (roll < 60) out.push(`_http._tcp.${name} SRV`);
    else if (roll < 70) out.push(`${name} AAAA`);
    else if (roll < 85) out.push(`missing-${rnd(SERVICES)}.${nsName(i)}.svc.cluster.local A`);
    else out.push(`${svcName(i)}.${nsName(i)}.ns-${rnd(NAMESPACES)}.svc.cluster.local A`);
  }
  return `${out.join('\n')}\n`;
}

// ---- the kemu server process (`bench/dns.ts serve PORT WORKERS`) ----

async function serve(port: number, workers: number): Promise<void> {
  if (workers > 1 && cluster.isPrimary) {
    let up = 0;
    for (let w = 0; w < workers; w++) {
      cluster.fork().on('message', (m) => {
        if (m === 'ready' && ++up === workers) console.log(`ready ${port}`);
      });
    }
    process.on('SIGTERM', () => {
      for (const w of Object.values(cluster.workers ?? {})) w?.kill();
      process.exit(0);
    });
    return;
  }
  // workers share the primary's sockets; the kernel hands each datagram to one of them
  const dns = await startClusterDns({
    source: new StaticZoneSource(zoneObjects()),
    corefile: corefile(),
    listen: { address: '127.0.0.1', port },
    log: { info: () => undefined, error: () => undefined },
  });
  if (cluster.isWorker) process.send?.('ready');
  else console.log(`ready ${dns.udpPort}`);
  process.on('SIGTERM', () => void dns.stop().then(() => process.exit(0)));
}

// ---- the orchestrator ----

interface Result {
  server: string;
  qps: number;
  p50ms: number;
  p99ms: number;
  lostPct: number;
  rssMiB: number;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.bind(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`no '${pattern.source}' within ${timeoutMs} ms: ${seen.slice(-400)}`)), timeoutMs);
    const onData = (d: Buffer): void => {
      seen += d.toString();
      const m = pattern.exec(seen);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${seen.slice(-400)}`)));
  });
}

/** Resident memory of a process and its children (node:cluster workers), in MiB. */
function rssMiB(pid: number): number {
  const rssKiB = (p: string): number => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
  const children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  return [String(pid), ...children].reduce((n, p) => n + rssKiB(p), 0) / 1024;
}

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN;
}

function dnsperf(port: number, queries: string, seconds: number, pin: boolean, verbose: boolean): { qps: number; lostPct: number; latencies: number[] } {
  const args = ['-s', '127.0.0.1', '-p', String(port), '-d', queries, '-l', String(seconds), '-q', '100', ...(verbose ? ['-v'] : [])];
  const r = pin ? spawnSync('taskset', ['-c', '0', 'dnsperf', ...args], { encoding: 'utf8', maxBuffer: 512 << 20 }) : spawnSync('dnsperf', args, { encoding: 'utf8', maxBuffer: 512 << 20 });
  const out = r.stdout ?? '';
  const qps = Number(/Queries per second:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  const lostPct = Number(/Queries lost:\s+\d+ \(([\d.]+)%\)/.exec(out)?.[1] ?? NaN);
  // verbose lines: "> NOERROR name type 0.000123"
  const latencies = verbose ? [...out.matchAll(/^> \S+ \S+ \S+ ([\d.]+)$/gm)].map((m) => Number(m[1]) * 1000).sort((a, b) => a - b) : [];
  return { qps, lostPct, latencies };
}

async function measure(server: string, child: ChildProcess, port: number, queries: string, pin: boolean): Promise<Result> {
  dnsperf(port, queries, WARMUP_S, pin, false);
  const run = dnsperf(port, queries, RUN_S, pin, true);
  return { server, qps: run.qps, p50ms: percentile(run.latencies, 50), p99ms: percentile(run.latencies, 99), lostPct: run.lostPct, rssMiB: rssMiB(child.pid!) };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

async function benchKemu(dir: string, queries: string, workers: number): Promise<Result> {
  const port = workers > 1 ? await freePort() : 0;
  const cmd = [process.execPath, '--import', 'tsx', HERE, 'serve', String(port), String(workers)];
  const pin = workers === 1;
  const child = pin ? spawn('taskset', ['-c', '1', ...cmd], { stdio: ['ignore', 'pipe', 'pipe'] }) : spawn(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const m = await waitForLine(child, /ready (\d+)/, 30_000);
    return await measure(workers > 1 ? `kemu ${workers} workers (node:cluster, unpinned)` : 'kemu 1 process', child, Number(m[1]), queries, pin);
  } finally {
    await stop(child);
  }
}

async function benchKnot(dir: string, queries: string, workers: number): Promise<Result> {
  const port = await freePort();
  const kdir = path.join(dir, `knot-${workers}`);
  fs.mkdirSync(kdir);
  fs.writeFileSync(path.join(kdir, 'cluster.local.zone'), zoneFile());
  fs.writeFileSync(
    path.join(kdir, 'knot.conf'),
    `server:\n  rundir: "${kdir}"\n  listen: 127.0.0.1@${port}\n  udp-workers: ${workers}\n  tcp-workers: 1\n  background-workers: 1\n` +
      `log:\n  - target: stderr\n    any: info\n` +
      `database:\n  storage: "${kdir}"\n` +
      `zone:\n  - domain: cluster.local\n    storage: "${kdir}"\n    file: "cluster.local.zone"\n    journal-content: none\n    zonefile-sync: -1\n`,
  );
  const pin = workers === 1;
  const cmd = ['knotd', '-c', path.join(kdir, 'knot.conf')];
  const child = pin ? spawn('taskset', ['-c', '1', ...cmd], { stdio: ['ignore', 'pipe', 'pipe'] }) : spawn(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    await waitForLine(child, /loaded, serial|server started/, 15_000);
    await new Promise((r) => setTimeout(r, 300)); // the zone load is logged just before it is served
    return await measure(`knot ${workers} udp worker${workers > 1 ? 's (unpinned)' : ''}`, child, port, queries, pin);
  } finally {
    await stop(child);
  }
}

function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

function fmt(n: number, digits = 0): string {
  return Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : 'n/a';
}

async function main(): Promise<void> {
  for (const tool of ['dnsperf', 'taskset']) {
    if (!have(tool)) {
      console.log(`bench/dns: ${tool} is missing (apt-get install dnsperf util-linux); skipped`);
      return;
    }
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kemu-bench-dns-'));
  const queries = path.join(dir, 'queries.txt');
  fs.writeFileSync(queries, queryFile());
  const results: Result[] = [];
  const loadStart = os.loadavg()[0]!.toFixed(2);
  try {
    if (have('knotd')) results.push(await benchKnot(dir, queries, 1));
    else console.log('bench/dns: knotd is missing (apt-get install knot); no C server to compare with');
    results.push(await benchKemu(dir, queries, 1));
    results.push(await benchKemu(dir, queries, 2));
    if (have('knotd')) results.push(await benchKnot(dir, queries, 2));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log(`\nDNS, dnsperf -l ${RUN_S} -q 100 (pinned rows: dnsperf on CPU 0, server on CPU 1), ${SERVICES} Services, ${QUERY_LINES} queries:`);
  console.log('50% A hit, 10% SRV hit, 10% AAAA NODATA, 15% NXDOMAIN, 15% search-list miss');
  // other jobs on the same cores lower every row; the load average tells how much to trust a run
  console.log(`load average at the start ${loadStart}, at the end ${os.loadavg()[0]!.toFixed(2)} (${os.cpus().length} CPUs)\n`);
  console.log('| server | QPS | p50 ms | p99 ms | lost % | RSS MiB |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const r of results) console.log(`| ${r.server} | ${fmt(r.qps)} | ${fmt(r.p50ms, 3)} | ${fmt(r.p99ms, 3)} | ${fmt(r.lostPct, 2)} | ${fmt(r.rssMiB, 1)} |`);
  // like against like: the pinned single process against knot's pinned worker, two against two
  const workersOf = (r: Result): number => Number(/(\d+) (?:udp )?(?:process|worker)/.exec(r.server)?.[1] ?? 1);
  for (const k of results.filter((r) => r.server.startsWith('kemu'))) {
    const knot = results.find((r) => r.server.startsWith('knot') && workersOf(r) === workersOf(k));
    const half = knot ? k.qps >= knot.qps / 2 : true;
    const verdict = k.qps >= TARGET_QPS && half ? 'met' : 'missed';
    console.log(`${k.server}: ${fmt(k.qps)} QPS${knot ? ` = ${fmt((100 * k.qps) / knot.qps)}% of ${knot.server}` : ''}; target >= ${fmt(TARGET_QPS)} and >= 50% -> ${verdict}`);
  }
}

if (process.argv[2] === 'serve') await serve(Number(process.argv[3]), Number(process.argv[4] ?? 1));
else await main();
