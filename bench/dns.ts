// Cluster DNS throughput: dnsperf against kemu's coredns program as a Pod runs it (its default
// worker processes, the Corefile from the coredns ConfigMap, informers on a kemu API holding 1,000
// Services) and against Knot DNS serving the same records from a zone file, in the same run.
// The query mix is what Pods send: hits (A, SRV), AAAA for IPv4-only Services (NODATA), names of
// Services that do not exist (NXDOMAIN) and search-list misses (`svc.ns.<own ns>.svc...`).
// Prints max QPS, p50/p99 latency, server CPU time per query and memory (RSS of every process);
// never fails on a missed target. On a shared machine other jobs lower every row, and by a
// different amount from one row to the next: `--rounds N` runs the whole set N times, alternating
// the servers, and prints each row's median and range and the kemu/knot ratio of every round.
// CPU time per query (every process of the server, user + system) moves much less with load.
// Loopback only (the program binds 0.0.0.0 as in a Pod, on a free port; queries go to 127.0.0.1);
// every server is started here and stopped by its PID.
//
// Start-up first: how long the program as the kubelet runs it (dist/ when built) takes from spawn
// to its first answer and to /ready 200, `--startup-runs N` times (default 5; 0 skips it).
//
//   node --import tsx bench/dns.ts [--rounds N] [--startup-runs N] [--dist DIR]
//   (no root needed; dnsperf and taskset, knotd for the comparison; --rounds 0: start-up only)

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { get as httpGet } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultClusterConfig } from '../src/api/cluster.js';
import { HttpClient } from '../src/api/http-client.js';
import { resourceForKind } from '../src/api/resources.js';
import { startApiServer } from '../src/api/server/apiserver.js';
import type { ConfigMap, Namespace, Service } from '../src/api/types.js';
import { exchangeUdp } from '../src/dns/exchange.js';
import { decodeMessage, encodeMessage } from '../src/dns/wire/codec.js';
import { CLASS_IN, emptyFlags, RCODE, TYPE } from '../src/dns/wire/message.js';

const SERVICES = 1_000;
const NAMESPACES = 10;
const QUERY_LINES = 20_000;
const WARMUP_S = 2;
const RUN_S = 8;
const TARGET_QPS = 30_000;
const PROGRAM = fileURLToPath(new URL('../src/workloads/main.ts', import.meta.url));
/** what the program picks by itself (src/dns/cli.ts) */
const DEFAULT_WORKERS = Math.min(os.availableParallelism(), 2);

const svcName = (i: number): string => `svc-${i % (SERVICES / NAMESPACES)}`;
const nsName = (i: number): string => `ns-${Math.floor(i / (SERVICES / NAMESPACES))}`;
const clusterIP = (i: number): string => `10.96.${1 + (i >> 8)}.${i & 0xff}`;

/** kubeadm's Corefile on `port`, with the HTTP listeners on free loopback ports and no upstream in use. */
function corefile(port: number, readyPort: number): string {
  return `.:${port} {
    errors
    health 127.0.0.1:0
    ready 127.0.0.1:${readyPort}
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

// ---- the orchestrator ----

interface Result {
  server: string;
  round: number;
  /** processes (kemu) or UDP workers (knot) answering */
  workers: number;
  qps: number;
  p50ms: number;
  p99ms: number;
  lostPct: number;
  /** CPU time (user + system) of the server's processes per answered query, µs */
  cpuUsPerQuery: number;
  /** resident memory of the server's processes (primary first), MiB */
  rssMiB: number[];
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

function freeTcpPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as AddressInfo).port;
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

const procStatus = (p: string): string => fs.readFileSync(`/proc/${p}/status`, 'utf8');

/** A server process and its node children (node:cluster workers). */
function serverPids(pid: number): string[] {
  // tsx's esbuild service is a child too; only node processes belong to the server
  const children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter((p) => p && /^Name:\s+node/m.test(procStatus(p)));
  return [String(pid), ...children];
}

/** Resident memory of each process of the server, in MiB. */
function rssMiB(pid: number): number[] {
  return serverPids(pid).map((p) => Number(/VmRSS:\s+(\d+)/.exec(procStatus(p))?.[1] ?? 0) / 1024);
}

const TICKS_PER_S = 100; // USER_HZ, as /proc reports utime and stime

/** User + system CPU seconds of the server's processes so far (all threads). */
function cpuSeconds(pid: number): number {
  let ticks = 0;
  for (const p of serverPids(pid)) {
    // fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15
    const fields = fs.readFileSync(`/proc/${p}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / TICKS_PER_S;
}

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN;
}

function dnsperf(port: number, queries: string, seconds: number, pin: boolean, verbose: boolean): { qps: number; completed: number; lostPct: number; latencies: number[] } {
  const args = ['-s', '127.0.0.1', '-p', String(port), '-d', queries, '-l', String(seconds), '-q', '100', ...(verbose ? ['-v'] : [])];
  const r = pin ? spawnSync('taskset', ['-c', '0', 'dnsperf', ...args], { encoding: 'utf8', maxBuffer: 512 << 20 }) : spawnSync('dnsperf', args, { encoding: 'utf8', maxBuffer: 512 << 20 });
  const out = r.stdout ?? '';
  const qps = Number(/Queries per second:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  const completed = Number(/Queries completed:\s+(\d+)/.exec(out)?.[1] ?? NaN);
  const lostPct = Number(/Queries lost:\s+\d+ \(([\d.]+)%\)/.exec(out)?.[1] ?? NaN);
  // verbose lines: "> NOERROR name type 0.000123"
  const latencies = verbose ? [...out.matchAll(/^> \S+ \S+ \S+ ([\d.]+)$/gm)].map((m) => Number(m[1]) * 1000).sort((a, b) => a - b) : [];
  return { qps, completed, lostPct, latencies };
}

async function measure(server: string, round: number, workers: number, child: ChildProcess, port: number, queries: string, pin: boolean): Promise<Result> {
  dnsperf(port, queries, WARMUP_S, pin, false);
  const cpuBefore = cpuSeconds(child.pid!);
  const run = dnsperf(port, queries, RUN_S, pin, true);
  const cpuUsPerQuery = ((cpuSeconds(child.pid!) - cpuBefore) * 1e6) / run.completed;
  return { server, round, workers, qps: run.qps, p50ms: percentile(run.latencies, 50), p99ms: percentile(run.latencies, 99), lostPct: run.lostPct, cpuUsPerQuery, rssMiB: rssMiB(child.pid!) };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

/** A kemu API in a temp dir holding the bench's Services and the coredns ConfigMap for `port`. */
async function startApi(dir: string, port: number, readyPort: number): Promise<{ socketPath: string; close(): Promise<void> }> {
  const socketPath = path.join(dir, 'api.sock');
  const server = await startApiServer({ storeDir: path.join(dir, 'store'), socketPath, config: defaultClusterConfig('bench-dns') });
  const client = new HttpClient({ socketPath });
  const kind = (k: string) => resourceForKind('v1', k)!;
  for (let n = 0; n < NAMESPACES; n++) await client.create<Namespace>(kind('Namespace'), undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: `ns-${n}` } });
  for (let i = 0; i < SERVICES; i++) {
    const svc: Service = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: svcName(i), namespace: nsName(i) },
      spec: { type: 'ClusterIP', clusterIP: clusterIP(i), clusterIPs: [clusterIP(i)], ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
    };
    await client.create<Service>(kind('Service'), nsName(i), svc);
  }
  const cm: ConfigMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'coredns', namespace: 'kube-system' }, data: { Corefile: corefile(port, readyPort) } };
  await client.create<ConfigMap>(kind('ConfigMap'), 'kube-system', cm);
  client.close();
  return { socketPath, close: () => server.close() };
}

/** Resolves once `tries` queries in a row for a Service got its address (every worker synced). */
async function waitForZone(port: number, timeoutMs: number, tries = 20): Promise<void> {
  const q = encodeMessage({ id: 1, flags: { ...emptyFlags(), rd: true }, rcode: 0, question: [{ name: `${svcName(0)}.${nsName(0)}.svc.cluster.local.`, type: TYPE.A, class: CLASS_IN }], answer: [], authority: [], additional: [] });
  const until = Date.now() + timeoutMs;
  for (let good = 0; good < tries; ) {
    if (Date.now() > until) throw new Error(`the coredns program did not answer from its zone within ${timeoutMs} ms`);
    const m = await exchangeUdp({ host: '127.0.0.1', port }, q, tries === 1 ? 50 : 500).then(decodeMessage, () => undefined);
    good = m?.rcode === RCODE.NOERROR && m.answer.length === 1 ? good + 1 : 0;
    if (good === 0) await new Promise((r) => setTimeout(r, tries === 1 ? 5 : 100));
  }
}

/** Resolves when GET /ready on `port` answers 200 (polled every 5 ms, as often as a probe could look). */
async function waitForReady(port: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const status = await new Promise<number>((resolve) => {
      const req = httpGet({ host: '127.0.0.1', port, path: '/ready', timeout: 500 }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', () => resolve(0));
      req.on('timeout', () => req.destroy());
    });
    if (status === 200) return;
    if (Date.now() > until) throw new Error(`the coredns program's /ready did not answer 200 within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

interface Startup {
  /** spawn to the first answer from the zone */
  answerMs: number;
  /** spawn to /ready 200: what the kubelet's readiness probe waits for */
  readyMs: number;
}

/** How long the program (default workers) takes from spawn to answering from its zone and to /ready 200. */
async function startupKemu(api: { socketPath: string }, port: number, readyPort: number, program: string[]): Promise<Startup> {
  const started = performance.now();
  const child = spawn(program[0]!, [...program.slice(1), 'coredns', '-conf', '/etc/coredns/Corefile'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KEMU_API_SOCKET: api.socketPath } });
  child.stdout.resume();
  child.stderr.resume();
  try {
    const [answerMs, readyMs] = await Promise.all([
      waitForZone(port, 30_000, 1).then(() => performance.now() - started),
      waitForReady(readyPort, 30_000).then(() => performance.now() - started),
    ]);
    return { answerMs, readyMs };
  } finally {
    await stop(child);
  }
}

/** The coredns program as the kubelet starts it, with `--workers` when given (else its default). */
async function benchKemu(api: { socketPath: string }, port: number, queries: string, round: number, workers?: number): Promise<Result> {
  const cmd = [process.execPath, '--import', 'tsx', PROGRAM, 'coredns', '-conf', '/etc/coredns/Corefile', ...(workers ? ['--workers', String(workers)] : [])];
  const pin = workers === 1;
  const env = { ...process.env, KEMU_API_SOCKET: api.socketPath };
  const child = pin ? spawn('taskset', ['-c', '1', ...cmd], { stdio: ['ignore', 'pipe', 'pipe'], env }) : spawn(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env });
  try {
    await waitForLine(child, /CoreDNS-/, 60_000);
    await waitForZone(port, 30_000);
    const name = workers ? `kemu coredns --workers ${workers}${pin ? '' : ' (unpinned)'}` : `kemu coredns, default ${DEFAULT_WORKERS} workers (unpinned)`;
    return await measure(name, round, workers ?? DEFAULT_WORKERS, child, port, queries, pin);
  } finally {
    await stop(child);
  }
}

async function benchKnot(dir: string, queries: string, round: number, workers: number): Promise<Result> {
  const port = await freePort();
  const kdir = path.join(dir, `knot-${workers}-${round}`);
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
    return await measure(`knot ${workers} udp worker${workers > 1 ? 's (unpinned)' : ''}`, round, workers, child, port, queries, pin);
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

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** `median (min–max)` of a figure over the rounds, or the one value of a single round. */
function spread(xs: number[], digits = 0): string {
  if (xs.length === 1) return fmt(xs[0]!, digits);
  return `${fmt(median(xs), digits)} (${fmt(Math.min(...xs), digits)}–${fmt(Math.max(...xs), digits)})`;
}

function countFlag(argv: string[], name: string, dflt: number): number {
  const i = argv.indexOf(name);
  if (i < 0) return dflt;
  const n = Number(argv[i + 1]);
  if (!Number.isInteger(n) || n < 0) throw new Error(`bench/dns: ${name} must be a whole number, got ${JSON.stringify(argv[i + 1] ?? '')}`);
  return n;
}

/** The start-up table: the compiled program as the kubelet runs it (node DIST/workloads/main.js), when built. */
async function reportStartup(api: { socketPath: string }, port: number, readyPort: number, runs: number, dist: string): Promise<void> {
  const built = path.join(dist, 'workloads', 'main.js');
  const program = fs.existsSync(built) ? [process.execPath, built] : [process.execPath, '--import', 'tsx', PROGRAM];
  const results: Startup[] = [];
  for (let i = 0; i < runs; i++) results.push(await startupKemu(api, port, readyPort, program));
  console.log(`\ncoredns start-up, ${runs} runs, default ${DEFAULT_WORKERS} workers, ${SERVICES} Services (${program.slice(1).join(' ')}): median (min–max) ms from spawn`);
  console.log('| first answer from the zone | /ready 200 |');
  console.log('|---:|---:|');
  console.log(`| ${spread(results.map((r) => r.answerMs))} | ${spread(results.map((r) => r.readyMs))} |`);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const rounds = countFlag(argv, '--rounds', 1);
  const startups = countFlag(argv, '--startup-runs', 5);
  const distAt = argv.indexOf('--dist');
  const dist = distAt >= 0 ? path.resolve(argv[distAt + 1] ?? '') : fileURLToPath(new URL('../dist', import.meta.url));
  for (const tool of ['dnsperf', 'taskset']) {
    if (!have(tool)) {
      console.log(`bench/dns: ${tool} is missing (apt-get install dnsperf util-linux); skipped`);
      return;
    }
  }
  const knot = have('knotd');
  if (!knot) console.log('bench/dns: knotd is missing (apt-get install knot); no C server to compare with');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kemu-bench-dns-'));
  const queries = path.join(dir, 'queries.txt');
  fs.writeFileSync(queries, queryFile());
  const results: Result[] = [];
  const loadStart = os.loadavg()[0]!.toFixed(2);
  const port = await freePort();
  const readyPort = await freeTcpPort();
  const api = await startApi(dir, port, readyPort);
  try {
    if (startups > 0) await reportStartup(api, port, readyPort, startups, dist);
    if (rounds === 0) return;
    // each kemu row sits right after or before the knot row it is compared with
    for (let round = 1; round <= rounds; round++) {
      if (knot) results.push(await benchKnot(dir, queries, round, 1));
      results.push(await benchKemu(api, port, queries, round, 1));
      results.push(await benchKemu(api, port, queries, round));
      if (knot) results.push(await benchKnot(dir, queries, round, DEFAULT_WORKERS));
    }
  } finally {
    await api.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log(`\nDNS, dnsperf -l ${RUN_S} -q 100 (pinned rows: dnsperf on CPU 0, server on CPU 1), ${SERVICES} Services, ${QUERY_LINES} queries:`);
  console.log('50% A hit, 10% SRV hit, 10% AAAA NODATA, 15% NXDOMAIN, 15% search-list miss');
  // other jobs on the same cores lower every row; the load average tells how much to trust a run
  console.log(`load average at the start ${loadStart}, at the end ${os.loadavg()[0]!.toFixed(2)} (${os.cpus().length} CPUs)`);
  if (rounds > 1) console.log(`${rounds} rounds: median (min–max) of each figure`);
  console.log('\n| server | QPS | p50 ms | p99 ms | lost % | CPU µs/query | RSS MiB (per process) |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  const servers = [...new Set(results.map((r) => r.server))];
  const rowsOf = (server: string): Result[] => results.filter((r) => r.server === server);
  const rss = (r: Result): string => `${fmt(r.rssMiB.reduce((a, b) => a + b, 0), 1)}${r.rssMiB.length > 1 ? ` (${r.rssMiB.map((m) => fmt(m, 1)).join(' + ')})` : ''}`;
  for (const server of servers) {
    const rows = rowsOf(server);
    const of = (f: (r: Result) => number, digits = 0): string => spread(rows.map(f), digits);
    console.log(`| ${server} | ${of((r) => r.qps)} | ${of((r) => r.p50ms, 3)} | ${of((r) => r.p99ms, 3)} | ${of((r) => r.lostPct, 2)} | ${of((r) => r.cpuUsPerQuery, 1)} | ${rss(rows[rows.length - 1]!)} |`);
  }
  // like against like, round by round: the pinned single process against knot's pinned worker, N workers against N
  for (const server of servers.filter((s) => s.startsWith('kemu'))) {
    const rows = rowsOf(server);
    const pairs = rows.flatMap((k) => {
      const c = results.find((r) => r.server.startsWith('knot') && r.workers === k.workers && r.round === k.round);
      return c ? [{ k, c }] : [];
    });
    const qps = median(rows.map((r) => r.qps));
    if (pairs.length === 0) {
      console.log(`${server}: ${fmt(qps)} QPS; target >= ${fmt(TARGET_QPS)} -> ${qps >= TARGET_QPS ? 'met' : 'missed'}`);
      continue;
    }
    const ratios = pairs.map(({ k, c }) => (100 * k.qps) / c.qps);
    const cpuRatios = pairs.map(({ k, c }) => (100 * c.cpuUsPerQuery) / k.cpuUsPerQuery);
    const verdict = qps >= TARGET_QPS && median(ratios) >= 50 ? 'met' : 'missed';
    console.log(
      `${server}: ${fmt(qps)} QPS = ${spread(ratios)}% of ${pairs[0]!.c.server} (rounds: ${ratios.map((r) => fmt(r)).join(', ')}); ` +
        `knot's CPU per query is ${spread(cpuRatios)}% of kemu's; target >= ${fmt(TARGET_QPS)} and >= 50% -> ${verdict}`,
    );
  }
}

await main();
