// Ingress throughput and latency: wrk through the kemu ingress to a small backend, beside nginx as
// a reverse proxy with keep-alive upstreams to the same backend, in the same run. Rows for 1 and 64
// connections, plain HTTP and TLS; each prints requests/s, p50 and p99, the ratio to nginx and the
// p99 the proxy adds over hitting the backend directly. Never fails on a missed target.
//
// The backend is real nginx (1 worker) serving a static 100-byte file: the fastest backend there
// is, so the rows measure the proxies and not the backend (as research/baselines.md did).
// nginx as proxy: 1 worker, `keepalive 64` upstream, HTTP/1.1, the X-Forwarded-* headers a
// Traefik-like ingress sets, the same self-signed certificate (openssl, EC P-256) as kemu.
// kemu: startIngressController on a static set of objects (Ingress host bench.example -> Service
// -> EndpointSlice 127.0.0.1:<backend>), in a child process, access log off (its default).
// Loopback only; every server is started here and stopped by its PID.
//
//   node --import tsx bench/ingress.ts [--pin] [--seconds N] [--rounds N] [--workers N]    (wrk, nginx and openssl)
//   --pin: backend and proxy on core 1, wrk on core 0 (needs 2 cores); default: unpinned.
//   --workers N: both proxies with N processes (nginx worker_processes N; kemu N node:cluster
//   workers sharing the listening sockets, the measurement of that shape, not the controller's
//   own mode: no API or metrics aggregation). The backend keeps 1 worker. Default 1.
//   --rounds N: each case N times, nginx and kemu taking turns (default 3); the table gives
//   medians, the ratio's spread over the rounds, and each proxy's CPU time per request (user +
//   system of all its processes): on a machine shared with other work, throughput moves with the
//   neighbours' load while CPU per request stays put.
//   (On the direct rows that column is the backend's own cost.)

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import cluster from 'node:cluster';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EndpointSlice, Ingress, IngressClass, Secret, Service } from '../src/api/types.js';
import type { ClusterObjects } from '../src/ingress/config/build.js';
import { startIngressController } from '../src/ingress/main.js';

const HOST = 'bench.example';
const WARMUP_S = 2;
const BODY = 'x'.repeat(99) + '\n';
const HERE = fileURLToPath(import.meta.url);

// ---- the kemu ingress process (`bench/ingress.ts serve WEB WEBSECURE BACKEND CERT KEY`) ----

function benchObjects(backendPort: number, certPem: string, keyPem: string): ClusterObjects {
  const meta = { namespace: 'bench', creationTimestamp: '2026-01-01T00:00:00Z' };
  const ingressClass: IngressClass = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'IngressClass',
    metadata: { name: 'kemu', annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } },
    spec: { controller: 'kemu.io/ingress-controller' },
  };
  const service: Service = { apiVersion: 'v1', kind: 'Service', metadata: { ...meta, name: 'backend' }, spec: { ports: [{ name: 'http', port: 80, targetPort: backendPort }] } };
  const slice: EndpointSlice = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { ...meta, name: 'backend-1', labels: { 'kubernetes.io/service-name': 'backend' } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: backendPort, protocol: 'TCP' }],
    endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true, serving: true, terminating: false } }],
  };
  const secret: Secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { ...meta, name: 'bench-tls' },
    type: 'kubernetes.io/tls',
    data: { 'tls.crt': Buffer.from(certPem).toString('base64'), 'tls.key': Buffer.from(keyPem).toString('base64') },
  };
  const ingress: Ingress = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { ...meta, name: 'bench' },
    spec: {
      tls: [{ hosts: [HOST], secretName: 'bench-tls' }],
      rules: [{ host: HOST, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'backend', port: { name: 'http' } } } }] } }],
    },
  };
  return { ingresses: [ingress], ingressClasses: [ingressClass], services: [service], endpointSlices: [slice], secrets: [secret] };
}

async function serve(web: number, websecure: number, backendPort: number, certFile: string, keyFile: string): Promise<void> {
  const ic = await startIngressController({
    source: benchObjects(backendPort, fs.readFileSync(certFile, 'utf8'), fs.readFileSync(keyFile, 'utf8')),
    entrypoints: { web, websecure },
    apiPort: 0,
    address: '127.0.0.1',
    log: { info: () => undefined, error: (l) => console.error(l) },
    graceMs: 100,
  });
  process.on('SIGTERM', () => void ic.stop().then(() => process.exit(0)));
  if (cluster.isWorker) process.send!('ready');
  else console.log(`ready ${ic.ports.web} ${ic.ports.websecure}`);
}

/** N workers that each run serve() on the same ports (node:cluster shares the listening sockets). */
function serveWorkers(workers: number, web: number, websecure: number): void {
  let ready = 0;
  for (let i = 0; i < workers; i++) {
    cluster.fork().on('message', () => {
      if (++ready === workers) console.log(`ready ${web} ${websecure}`);
    });
  }
  process.on('SIGTERM', () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
    cluster.on('exit', () => {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
    });
  });
}

// ---- nginx (backend and proxy), each its own master + 1 worker on its own config ----

function nginxConf(dir: string, name: string, server: string, extraHttp = '', workers = 1): string {
  const tmp = path.join(dir, `${name}-tmp`);
  fs.mkdirSync(tmp, { recursive: true });
  return `worker_processes ${workers};
pid ${dir}/${name}.pid;
error_log ${dir}/${name}-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${tmp}/body; proxy_temp_path ${tmp}/proxy; fastcgi_temp_path ${tmp}/fastcgi;
  uwsgi_temp_path ${tmp}/uwsgi; scgi_temp_path ${tmp}/scgi;
  keepalive_requests 100000000;
  keepalive_timeout 300s;
  ${extraHttp}
  server {
${server}
  }
}
`;
}

function backendConf(dir: string, port: number): string {
  const www = path.join(dir, 'www');
  fs.mkdirSync(www, { recursive: true });
  fs.writeFileSync(path.join(www, 'index.html'), BODY);
  return nginxConf(dir, 'backend', `    listen 127.0.0.1:${port};\n    location / { root ${www}; }`);
}

function proxyConf(dir: string, port: number, tlsPort: number, backendPort: number, workers: number): string {
  const upstream = `upstream backend { server 127.0.0.1:${backendPort}; keepalive 64; keepalive_requests 100000000; }`;
  const server = `    listen 127.0.0.1:${port};
    listen 127.0.0.1:${tlsPort} ssl;
    ssl_certificate ${dir}/tls.crt;
    ssl_certificate_key ${dir}/tls.key;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $http_host;
      proxy_set_header X-Real-Ip $remote_addr;
    }`;
  return nginxConf(dir, 'proxy', server, upstream, workers);
}

// ---- processes ----

const children: ChildProcess[] = [];

function start(cmd: string, args: string[], pin: boolean): ChildProcess {
  const child = pin ? spawn('taskset', ['-c', '1', cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }) : spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return child;
}

function startNginx(dir: string, name: string, conf: string, pin: boolean): ChildProcess {
  const file = path.join(dir, `${name}.conf`);
  fs.writeFileSync(file, conf);
  return start('nginx', ['-p', dir, '-e', path.join(dir, `${name}-error.log`), '-c', file, '-g', 'daemon off;'], pin);
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  // nginx's master stops its worker on SIGTERM; node exits from its handler
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${child.spawnargs.join(' ')} exited with ${child.exitCode}`);
    const open = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listening on 127.0.0.1:${port} after ${timeoutMs} ms`);
}

// ---- wrk ----

interface Run {
  rps: number;
  p50ms: number;
  p99ms: number;
  errors: number;
  requests: number;
  /** the proxy's CPU time per request (µs), when measured */
  cpuUs?: number;
}

function toMs(value: string, unit: string): number {
  const n = Number(value);
  return unit === 'us' ? n / 1000 : unit === 's' ? n * 1000 : unit === 'm' ? n * 60_000 : n;
}

/** Parses `wrk --latency` output. */
export function parseWrk(out: string): Run {
  const pct = (p: string): number => {
    const m = new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(out);
    return m ? toMs(m[1]!, m[2]!) : NaN;
  };
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const errors = non2xx + (socketErrors ? socketErrors.slice(1).reduce((n, v) => n + Number(v), 0) : 0);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? NaN);
  return { rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN), p50ms: pct('50'), p99ms: pct('99'), errors, requests };
}

function wrk(url: string, connections: number, seconds: number, pin: boolean): Run {
  const args = [`-t${Math.min(2, connections)}`, `-c${connections}`, `-d${seconds}s`, '--latency', '-H', `Host: ${HOST}`, url];
  const r = pin ? spawnSync('taskset', ['-c', '0', 'wrk', ...args], { encoding: 'utf8' }) : spawnSync('wrk', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`wrk ${args.join(' ')}: ${r.stderr || r.stdout}`);
  return parseWrk(r.stdout);
}

/** One request first: a proxy that answers anything but the backend's file would measure nothing. */
function check(url: string): void {
  const r = spawnSync('curl', ['-sk', '-H', `Host: ${HOST}`, '-w', '%{http_code}', url], { encoding: 'utf8' });
  if (r.stdout !== `${BODY}200`) throw new Error(`${url} answered ${JSON.stringify(r.stdout)} ${r.stderr}`);
}

const CLOCK_TICK_US = 10_000; // USER_HZ = 100 on Linux

/** User + system CPU time (clock ticks) of a process and its child processes (nginx workers, cluster workers). */
function cpuTicks(pid: number): number {
  const ticks = (p: string): number => {
    const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
    // utime and stime are fields 14 and 15; the text after the command's ')' starts at field 3
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  };
  const kids = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean);
  return [String(pid), ...kids].reduce((n, p) => n + ticks(p), 0);
}

function measure(url: string, connections: number, seconds: number, pin: boolean, opts: { warmUp: boolean; pid: number | undefined }): Run {
  if (opts.warmUp) {
    check(url);
    wrk(url, connections, WARMUP_S, pin);
  }
  const before = opts.pid === undefined ? 0 : cpuTicks(opts.pid);
  const run = wrk(url, connections, seconds, pin);
  if (opts.pid !== undefined) run.cpuUs = ((cpuTicks(opts.pid) - before) * CLOCK_TICK_US) / run.requests;
  return run;
}

// ---- the orchestrator ----

type Proxy = 'direct' | 'nginx' | 'kemu';

interface Row {
  proxy: Proxy;
  scheme: 'http' | 'https';
  connections: number;
  /** one run per round */
  runs: Run[];
}

function median(values: number[]): number {
  const v = [...values].sort((a, b) => a - b);
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

function table(rows: Row[]): string {
  const find = (proxy: Proxy, scheme: string, c: number): Row | undefined => rows.find((r) => r.proxy === proxy && r.scheme === scheme && r.connections === c);
  const lines = [
    '| proxy | scheme | conns | req/s | p50 ms | p99 ms | errors | CPU µs/req | req/s vs nginx (min–max) | p99 added vs direct ms |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    const med = (f: (run: Run) => number): number => median(r.runs.map(f));
    const nginx = find('nginx', r.scheme, r.connections);
    const direct = find('direct', 'http', r.connections);
    let ratio = '';
    if (r.proxy === 'kemu' && nginx) {
      // same-round ratios: each kemu run against the nginx run just before it
      const perRound = r.runs.map((run, i) => run.rps / nginx.runs[i]!.rps);
      ratio = `${median(perRound).toFixed(2)}x (${Math.min(...perRound).toFixed(2)}–${Math.max(...perRound).toFixed(2)})`;
    }
    const added = r.proxy !== 'direct' && direct ? (med((x) => x.p99ms) - median(direct.runs.map((x) => x.p99ms))).toFixed(2) : '';
    const cpu = r.runs.every((x) => x.cpuUs !== undefined) ? med((x) => x.cpuUs!).toFixed(0) : '';
    const errors = r.runs.reduce((n, x) => n + x.errors, 0);
    lines.push(`| ${r.proxy} | ${r.scheme} | ${r.connections} | ${Math.round(med((x) => x.rps)).toLocaleString('en-US')} | ${med((x) => x.p50ms).toFixed(2)} | ${med((x) => x.p99ms).toFixed(2)} | ${errors} | ${cpu} | ${ratio} | ${added} |`);
  }
  return lines.join('\n');
}

function missingTools(): string[] {
  return ['wrk', 'nginx', 'openssl', 'taskset', 'curl'].filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const pin = argv.includes('--pin');
  const secondsArg = argv.indexOf('--seconds');
  const seconds = secondsArg >= 0 ? Number(argv[secondsArg + 1]) : 10;
  const roundsArg = argv.indexOf('--rounds');
  const rounds = roundsArg >= 0 ? Number(argv[roundsArg + 1]) : 3;
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds: want a whole number >= 1, got ${argv[roundsArg + 1]}`);
  const workersArg = argv.indexOf('--workers');
  const workers = workersArg >= 0 ? Number(argv[workersArg + 1]) : 1;
  if (!Number.isInteger(workers) || workers < 1) throw new Error(`--workers: want a whole number >= 1, got ${argv[workersArg + 1]}`);
  const missing = missingTools();
  if (missing.length) {
    console.log(`skipped: missing ${missing.join(', ')} (apt-get install wrk nginx openssl util-linux curl)`);
    return;
  }
  if (pin && os.cpus().length < 2) throw new Error('--pin needs 2 cores');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kemu-bench-ingress-'));
  // nginx workers run as nobody: they must reach the static file
  fs.chmodSync(dir, 0o755);
  try {
    const openssl = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', `/CN=${HOST}`, '-addext', `subjectAltName=DNS:${HOST}`, '-keyout', `${dir}/tls.key`, '-out', `${dir}/tls.crt`], { encoding: 'utf8' });
    if (openssl.status !== 0) throw new Error(`openssl: ${openssl.stderr}`);
    const [backendPort, nginxPort, nginxTlsPort, kemuPort, kemuTlsPort] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()] as [number, number, number, number, number];
    const backend = startNginx(dir, 'backend', backendConf(dir, backendPort), pin);
    const proxy = startNginx(dir, 'proxy', proxyConf(dir, nginxPort, nginxTlsPort, backendPort, workers), pin);
    const kemu = start(process.execPath, ['--import', 'tsx', ...(process.env.KEMU_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []), HERE, 'serve', String(kemuPort), String(kemuTlsPort), String(backendPort), `${dir}/tls.crt`, `${dir}/tls.key`, String(workers)], pin);
    kemu.stderr?.on('data', (d: Buffer) => process.stderr.write(d));
    await waitForPort(backendPort, backend, 5000);
    await waitForPort(nginxPort, proxy, 5000);
    await waitForPort(kemuTlsPort, kemu, 20_000);
    console.log(`wrk -c1 (-t1) and -c64 (-t2), ${rounds} round(s) of ${seconds} s after ${WARMUP_S} s of warm-up, Host: ${HOST}, ${BODY.length}-byte body; ${pin ? 'backend and proxy pinned to core 1, wrk to core 0 (taskset)' : 'unpinned'}; proxies with ${workers} worker process(es); node ${process.version}`);
    const rows: Row[] = [];
    const pids: Record<Proxy, number | undefined> = { direct: backend.pid, nginx: proxy.pid, kemu: kemu.pid };
    for (const connections of [1, 64]) {
      const cases: Row[] = [{ proxy: 'direct', scheme: 'http', connections, runs: [] }];
      for (const scheme of ['http', 'https'] as const) cases.push({ proxy: 'nginx', scheme, connections, runs: [] }, { proxy: 'kemu', scheme, connections, runs: [] });
      const port = (r: Row): number => (r.proxy === 'direct' ? backendPort : r.proxy === 'nginx' ? (r.scheme === 'http' ? nginxPort : nginxTlsPort) : r.scheme === 'http' ? kemuPort : kemuTlsPort);
      for (let round = 0; round < rounds; round++) {
        for (const r of cases) r.runs.push(measure(`${r.scheme}://127.0.0.1:${port(r)}/index.html`, connections, seconds, pin, { warmUp: round === 0, pid: pids[r.proxy] }));
      }
      rows.push(...cases);
    }
    console.log(table(rows));
    console.log('aims: kemu >= 0.70x nginx req/s at 64 connections; < 1 ms p99 added at 1 connection');
  } finally {
    for (const c of children) await stop(c);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'serve') {
  const [web, websecure, backend, , , workers = 1] = process.argv.slice(3, 9).map(Number) as [number, number, number, number, number, number?];
  if (cluster.isPrimary && workers > 1) serveWorkers(workers, web, websecure);
  else await serve(web, websecure, backend, process.argv[6]!, process.argv[7]!);
} else {
  await main();
}
