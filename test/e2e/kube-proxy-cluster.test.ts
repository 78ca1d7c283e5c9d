// kube-proxy on a whole `kemu up` cluster, once per mode (iptables, nftables), checked the way the
// upstream e2e suite checks Services: traffic from Pods on every node reaches every endpoint, NodePort
// from the host via each node, hairpin, sessionAffinity, externalTrafficPolicy Local (client IP kept,
// only local endpoints), scaling shows in the rules within about a second (`kemu rules` included),
// an unready endpoint gets no new connections and its UDP flows move (conntrack cleanup), a Service
// without endpoints refuses at once, and an open TCP connection survives a kube-proxy restart.
// Uses the built CLI (dist/) as `npm test` builds it. Root.

import { execFile, execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpClient } from '../../src/api/http-client.js';
import { RESOURCES, type ResourceType } from '../../src/api/resources.js';
import type { EndpointSlice, Node, Pod, Service } from '../../src/api/types.js';
import { until } from '../unit/support/api-fixture.js';
import { kemuArgv, kemuCli, type CliResult } from './kemu-cli.js';
import { deployment, HTTP_PORT, netexec, pinnedPod, service, writeManifest } from './support/manifests.js';

const isRoot = process.getuid?.() === 0;
const kind = (k: string) => RESOURCES.find((r) => r.kind === k) as ResourceType;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A Node.js program run inside a Pod; it stops by itself after `seconds`. */
function tcpKeepAliveClient(host: string, seconds: number): string {
  // One connection, a GET /hostname every 300 ms on it; prints each answer's body, or what broke it.
  return `const s = require('net').connect(80, ${JSON.stringify(host)}); let buf = '';
s.on('data', (d) => { buf += d; for (;;) { const end = buf.indexOf('\\r\\n\\r\\n'); if (end < 0) return;
  const len = Number(/content-length: *(\\d+)/i.exec(buf.slice(0, end))?.[1] ?? 0); if (buf.length < end + 4 + len) return;
  console.log(buf.slice(end + 4, end + 4 + len).trim()); buf = buf.slice(end + 4 + len); } });
s.on('error', (e) => console.log('error ' + e.message)); s.on('close', () => { console.log('closed'); process.exit(0); });
const t = setInterval(() => s.write('GET /hostname HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n'), 300);
setTimeout(() => { clearInterval(t); s.end(); }, ${seconds * 1000});`;
}

function udpClient(host: string, port: number, seconds: number): string {
  // Always the same source port, so every datagram belongs to one conntrack flow.
  return `const s = require('dgram').createSocket('udp4'); s.bind(40123, () => {
  const t = setInterval(() => s.send('hostname', ${port}, ${JSON.stringify(host)}), 200);
  setTimeout(() => { clearInterval(t); s.close(); }, ${seconds * 1000}); });
s.on('message', (m) => console.log(String(m).trim())); s.on('error', (e) => console.log('error ' + e.message));`;
}

describe.runIf(isRoot).each(['iptables', 'nftables'] as const)('kube-proxy %s mode on a kemu cluster', (mode) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kemu-kpc-e2e-'));
  const CLUSTER = `kpc-${mode === 'iptables' ? 'ipt' : 'nft'}-${Math.random().toString(36).slice(2, 6)}`;
  const UNDERLAY = `172.30.${10 + Math.floor(Math.random() * 240)}.0/24`;
  const GATEWAY = UNDERLAY.replace(/0\/24$/, '1');
  const CONTROL = `${CLUSTER}-control-plane`;
  const WORKER = `${CLUSTER}-worker`;
  const env = { ...process.env, KEMU_STATE_ROOT: root, KEMU_CLUSTER: CLUSTER };
  const api = new HttpClient({ socketPath: path.join(root, CLUSTER, 'api.sock') });

  const { kemu, kemuOk } = kemuCli(env);
  /** Runs a program in a Pod and streams its output lines. */
  function inPod(pod: string, script: string): { lines: string[]; done: Promise<void> } {
    const child = spawn(process.execPath, kemuArgv(['exec', pod, '--', process.execPath, '-e', script]), { env, stdio: ['ignore', 'pipe', 'inherit'] });
    const lines: string[] = [];
    let rest = '';
    child.stdout.on('data', (d: Buffer) => {
      const parts = (rest + d.toString()).split('\n');
      rest = parts.pop() ?? '';
      lines.push(...parts.filter(Boolean));
    });
    return { lines, done: new Promise((resolve) => child.on('exit', () => resolve())) };
  }
  /** The node's ruleset as kube-proxy's own tool prints it. */
  function nodeRules(node: string): string {
    const argv = mode === 'iptables' ? ['iptables-save', '-t', 'nat'] : ['nft', 'list', 'table', 'ip', 'kube-proxy'];
    return execFileSync('ip', ['netns', 'exec', node, ...argv], { encoding: 'utf8', maxBuffer: 64 << 20 });
  }
  async function webPods(): Promise<Pod[]> {
    const list = await api.list<Pod>(kind('Pod'), 'default', { labelSelector: 'app=web' });
    return list.items.filter((p) => p.status?.podIP && p.metadata.deletionTimestamp === undefined);
  }
  async function readyEndpoints(service: string): Promise<string[]> {
    const slices = await api.list<EndpointSlice>(kind('EndpointSlice'), 'default', { labelSelector: `kubernetes.io/service-name=${service}` });
    return slices.items.flatMap((s) => s.endpoints.filter((e) => e.conditions?.ready).flatMap((e) => e.addresses));
  }
  async function clusterIP(service: string): Promise<string> {
    return (await api.get<Service>(kind('Service'), 'default', service)).spec.clusterIP!;
  }
  async function nodePort(service: string): Promise<number> {
    return (await api.get<Service>(kind('Service'), 'default', service)).spec.ports![0]!.nodePort!;
  }
  async function nodeIP(node: string): Promise<string> {
    const n = await api.get<Node>(kind('Node'), undefined, node);
    return n.status!.addresses!.find((a) => a.type === 'InternalIP')!.address;
  }
  /** agnhost's /dial from inside a Pod: `tries` new connections, the answers in order. */
  async function dial(pod: string, host: string, port: number, tries: number, protocol = 'http'): Promise<string[]> {
    const url = `http://127.0.0.1:8080/dial?request=hostname&protocol=${protocol}&host=${host}&port=${port}&tries=${tries}`;
    const out = JSON.parse(await kemuOk(['exec', pod, '--', 'curl', '-sS', '--max-time', '30', url])) as { responses?: string[] };
    return out.responses ?? [];
  }
  function curlFromHost(url: string): Promise<CliResult> {
    return new Promise((resolve) => {
      execFile('curl', ['-sS', '--max-time', '2', url], (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? -1) : 0, stdout, stderr }));
    });
  }
  const counts = (names: string[]): Map<string, number> => names.reduce((m, n) => m.set(n, (m.get(n) ?? 0) + 1), new Map<string, number>());
  const notReadyFile = (pod: string) => path.join(root, `notready-${pod}`);

  // Ready until the test creates the Pod's notReadyFile.
  const readyUnlessMarked = { exec: { command: ['sh', '-c', `test ! -e ${root}/notready-$(hostname)`] }, periodSeconds: 1 };
  const manifests = [
    deployment('web', 4, [netexec('netexec', { udp: true, readinessProbe: readyUnlessMarked })]),
    pinnedPod('solo', WORKER, { app: 'solo' }, netexec('netexec', { udp: true })),
    service('web', { selector: { app: 'web' }, ports: [HTTP_PORT, { name: 'udp', protocol: 'UDP', port: 81, targetPort: 8081 }] }),
    service('web-np', { type: 'NodePort', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] }),
    service('web-affinity', { sessionAffinity: 'ClientIP', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] }),
    service('solo', { type: 'NodePort', externalTrafficPolicy: 'Local', selector: { app: 'solo' }, ports: [{ port: 80, targetPort: 8080 }] }),
    service('empty', { selector: { app: 'nobody' }, ports: [{ port: 80, targetPort: 8080 }] }),
  ];

  beforeAll(async () => {
    await kemuOk(['up', '--nodes', '1', '--proxy-mode', mode, '--underlay-cidr', UNDERLAY], 120_000);
    await kemuOk(['apply', '-f', writeManifest(root, 'services', manifests)]);
    await kemuOk(['wait', '--for=condition=Ready', 'pod', '-l', 'app in (web,solo)', '--timeout=90s'], 100_000);
    // Every node has programmed every web endpoint before the checks start.
    const ips = (await webPods()).map((p) => p.status!.podIP!);
    for (const node of [CONTROL, WORKER]) await until(`${node}'s rules`, () => ips.every((ip) => nodeRules(node).includes(`${ip}:8080`)), 10_000, 200);
  }, 240_000);

  afterAll(async () => {
    await kemu(['down']);
    fs.rmSync(root, { recursive: true, force: true });
  }, 60_000);

  it('spreads ClusterIP traffic from Pods on every node over all endpoints', async () => {
    const pods = await webPods();
    const names = pods.map((p) => p.metadata.name!);
    const ip = await clusterIP('web');
    for (const node of [CONTROL, WORKER]) {
      const client = pods.find((p) => p.spec.nodeName === node);
      expect(client, `a web Pod on ${node}`).toBeDefined();
      const seen = counts(await dial(client!.metadata.name!, ip, 80, 60));
      expect([...seen.keys()].sort()).toEqual([...names].sort());
      // 60 tries over 4 endpoints: 15 each expected; fewer than 3 would be a broken split (p < 1e-4).
      for (const n of names) expect(seen.get(n)).toBeGreaterThanOrEqual(3);
    }
  }, 60_000);

  it('serves a NodePort from the host via each node\'s underlay IP', async () => {
    const names = new Set((await webPods()).map((p) => p.metadata.name!));
    const port = await nodePort('web-np');
    for (const node of [CONTROL, WORKER]) {
      const out = execFileSync('curl', ['-sS', '--max-time', '3', `http://${await nodeIP(node)}:${port}/hostname`], { encoding: 'utf8' });
      expect(names).toContain(out.trim());
    }
  }, 30_000);

  it('lets a Pod reach itself through its own Service (hairpin)', async () => {
    const out = await kemuOk(['exec', 'solo', '--', 'curl', '-sS', '--max-time', '3', `http://${await clusterIP('solo')}/hostname`]);
    expect(out.trim()).toBe('solo');
  }, 30_000);

  it('pins a client to one endpoint with sessionAffinity ClientIP', async () => {
    const ip = await clusterIP('web-affinity');
    for (const client of ['solo', (await webPods())[0]!.metadata.name!]) {
      const answers = await dial(client, ip, 80, 20);
      expect(answers).toHaveLength(20);
      expect(new Set(answers).size).toBe(1);
    }
  }, 60_000);

  it('keeps the client IP and uses only local endpoints with externalTrafficPolicy Local', async () => {
    const port = await nodePort('solo');
    const viaWorker = execFileSync('curl', ['-sS', '--max-time', '3', `http://${await nodeIP(WORKER)}:${port}/clientip`], { encoding: 'utf8' });
    expect(viaWorker.trim()).toMatch(new RegExp(`^${GATEWAY.replaceAll('.', '\\.')}:\\d+$`));
    // The control-plane node has no endpoint of solo: it refuses or drops, never forwards elsewhere.
    const viaControl = await curlFromHost(`http://${await nodeIP(CONTROL)}:${port}/clientip`);
    expect(viaControl.code).not.toBe(0);
    expect(viaControl.stdout).toBe('');
  }, 30_000);

  it('refuses a Service without endpoints at once', async () => {
    const ip = await clusterIP('empty');
    const script = `start=$(date +%s%N); curl -sS --max-time 5 http://${ip}/ 2>&1; echo "rc=$? ms=$(( ($(date +%s%N) - start) / 1000000 ))"`;
    const out = await kemuOk(['exec', 'solo', '--', 'sh', '-c', script]);
    expect(out).toMatch(/Failed to connect/); // ICMP port unreachable from the REJECT, not a timeout
    const [, rc, ms] = /rc=(\d+) ms=(\d+)/.exec(out)!;
    expect(Number(rc)).toBe(7); // curl: failed to connect, not 28 (timeout)
    expect(Number(ms)).toBeLessThan(1000);
  }, 30_000);

  it('shows a scaled-up Deployment in the rules within about a second, and in kemu rules', async () => {
    const before = new Set((await webPods()).map((p) => p.status!.podIP!));
    await kemuOk(['scale', 'deployment', 'web', '--replicas=5']);
    let added = '';
    // Wait for all five: the first new endpoint can be ready while the other is still starting.
    await until('five ready endpoints', async () => {
      const ready = await readyEndpoints('web');
      added = ready.find((ip) => !before.has(ip)) ?? '';
      return ready.length >= 5 && added !== '';
    }, 60_000);
    // From the API having it to both nodes' kernels having it: minSyncPeriod is 1 s.
    const readyAt = Date.now();
    await until('the new endpoint in the rules', () => [CONTROL, WORKER].every((n) => nodeRules(n).includes(`${added}:8080`)), 5000, 20);
    const lag = Date.now() - readyAt;
    console.log(`kube-proxy ${mode}: new endpoint in both nodes' rules ${lag} ms after it was ready in the API`);
    expect(lag).toBeLessThan(1500);

    // kemu rules --service shows exactly the Service's ready endpoints (asked again while a
    // readiness probe of a loaded machine flaps an endpoint out and back in)
    const dnat = mode === 'iptables' ? /--to-destination (\S+):8080/g : /dnat to (\S+):8080/g;
    let shown = '';
    let targets = new Set<string>();
    let ready: string[] = [];
    await until('kemu rules to show the ready endpoints', async () => {
      ready = await readyEndpoints('web');
      shown = await kemuOk(['rules', WORKER, '--service', 'default/web']);
      targets = new Set([...shown.matchAll(dnat)].map((m) => m[1]!));
      return targets.size === ready.length && ready.every((ip) => targets.has(ip));
    }, 10_000, 200);
    expect(targets).toEqual(new Set(ready));
    expect(shown).toContain(added);
    expect(shown).not.toMatch(/default\/(solo|empty|web-np|web-affinity)[:/]/);
    const all = await kemuOk(['rules']);
    expect(all).toContain(mode === 'iptables' ? '*nat' : 'table ip kube-proxy {');
  }, 90_000);

  it('sends no new connections to an unready endpoint, and moves its UDP flows (conntrack)', async () => {
    const ip = await clusterIP('web');
    const udp = inPod('solo', udpClient(ip, 81, 25));
    await until('a UDP answer', () => udp.lines.length > 0, 10_000);
    const victim = udp.lines[0]!;
    const pods = await webPods();
    const victimIP = pods.find((p) => p.metadata.name === victim)?.status?.podIP;
    expect(victimIP, `${victim} answers UDP and is a web Pod`).toBeDefined();
    fs.writeFileSync(notReadyFile(victim), '');
    try {
      await until('the endpoint to turn unready', async () => !(await readyEndpoints('web')).includes(victimIP!), 20_000);
      await until('the endpoint to leave the rules', () => [CONTROL, WORKER].every((n) => !nodeRules(n).includes(`${victimIP}:8080`)), 5000, 20);
      const others = pods.filter((p) => p.metadata.name !== victim);
      const answers = await dial(others[0]!.metadata.name!, ip, 80, 30);
      expect(answers).toHaveLength(30);
      expect(answers).not.toContain(victim);
      // The flow from the fixed source port went to the victim; once its conntrack entry is deleted
      // the next datagram is balanced anew.
      const mark = udp.lines.length;
      await until('UDP answers from another endpoint', () => udp.lines.slice(mark).some((l) => l !== victim), 5000);
      await sleep(600);
      expect(udp.lines.slice(-2).every((l) => l !== victim && others.some((p) => p.metadata.name === l))).toBe(true);
    } finally {
      fs.rmSync(notReadyFile(victim), { force: true });
    }
    await udp.done;
  }, 90_000);

  it('keeps an open TCP connection through a Service across a kube-proxy restart', async () => {
    const pidFile = path.join(root, CLUSTER, 'nodes', WORKER, 'agent.pid');
    const conn = inPod('solo', tcpKeepAliveClient(await clusterIP('web'), 12));
    await until('the first answer', () => conn.lines.length > 0, 10_000);
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    const answersBefore = conn.lines.length;
    process.kill(pid, 'SIGKILL');
    const restarted = spawn('nsenter', [`--net=/run/netns/${WORKER}`, '--', ...argv], { env, stdio: 'ignore', detached: true });
    fs.writeFileSync(pidFile, `${restarted.pid}\n`);
    restarted.unref();
    // The new kube-proxy's first sync is a full one: wait until it has rewritten the rules.
    const restartedAt = Date.now();
    const syncedSinceRestart = (): boolean => {
      const r = spawnSync('ip', ['netns', 'exec', WORKER, 'curl', '-s', '--max-time', '1', 'http://127.0.0.1:10256/healthz'], { encoding: 'utf8' });
      const lastUpdated = Date.parse((JSON.parse(r.stdout || '{}') as { lastUpdated?: string }).lastUpdated ?? '');
      return lastUpdated >= restartedAt;
    };
    await until('the restarted kube-proxy to sync', syncedSinceRestart, 15_000, 200);
    await conn.done;
    expect(conn.lines.length).toBeGreaterThan(answersBefore + 10);
    expect(conn.lines.at(-1)).toBe('closed');
    const answers = conn.lines.slice(0, -1);
    expect(new Set(answers).size).toBe(1); // one connection, one endpoint, no error
    expect(answers[0]).not.toMatch(/^error/);
  }, 60_000);
});
