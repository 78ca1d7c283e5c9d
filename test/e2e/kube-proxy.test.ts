// kube-proxy (iptables and nftables modes) on a real kernel: per mode one node namespace with a pod bridge and two server
// pods, one client pod on its own routed veth (so replies come back through the node's conntrack),
// an in-process API server, and startKubeProxy driving the node through its netns option. Checks
// the rules, load balancing over the ClusterIP, REJECT for a Service without endpoints, endpoint
// removal, and /metrics + /healthz inside the node. The host's iptables and nftables tables must stay
// unchanged. Root.

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultClusterConfig } from '../../src/api/cluster.js';
import { HttpClient } from '../../src/api/http-client.js';
import { RESOURCES, type ResourceType } from '../../src/api/resources.js';
import { startApiServer, type RunningApiServer } from '../../src/api/server/apiserver.js';
import type { EndpointSlice, Node, Service } from '../../src/api/types.js';
import { startKubeProxy, type RunningKubeProxy } from '../../src/proxy/run.js';
import { exec } from '../../src/sys/exec.js';
import { ipBatch } from '../../src/sys/iproute.js';
import { argvIn, createNetns, deleteNetns, execIn, listNetns } from '../../src/sys/netns.js';

const kind = (k: string) => RESOURCES.find((r) => r.kind === k) as ResourceType;
const isRoot = process.getuid?.() === 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function eventually(check: () => Promise<boolean>, timeoutMs = 5000): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > until) return false;
    await sleep(50);
  }
}

/** The host's nftables tables (names only): must be the same after the test. */
async function hostNftTables(): Promise<string> {
  return (await exec('nft', ['list', 'tables'])).stdout;
}

/** The host's iptables without counters: must be the same after the test. */
async function hostIptables(): Promise<string> {
  return (await exec('iptables-save', [])).stdout
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .map((l) => l.replace(/\[\d+:\d+\]/g, '[0:0]'))
    .join('\n');
}

function curlIn(ns: string, url: string, maxTime = 2) {
  return execIn(ns, 'curl', ['-sS', '--max-time', String(maxTime), url], { allowFailure: true, timeoutMs: 10_000 });
}

function slice(nodeName: string, endpointIPs: string[]): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'web-abc', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    endpoints: endpointIPs.map((ip) => ({ addresses: [ip], conditions: { ready: true, serving: true, terminating: false }, nodeName })),
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  };
}

/** Leaves a mode-specific test out of the other mode's suite (a skipped twin would read as a skip). */
const noTest = (..._args: unknown[]): void => undefined;

describe.runIf(isRoot).each(['iptables', 'nftables'] as const)('kube-proxy %s mode in a node namespace', (mode) => {
  // Own namespaces per mode, so a leftover of one cannot make the other pass.
  const prefix = `kemut-${mode === 'nftables' ? 'nft' : 'kp'}-${randomBytes(3).toString('hex')}`;
  const nodeNs = `${prefix}-node`;
  const clientNs = `${prefix}-c`;
  const servers = [
    { ns: `${prefix}-p1`, ip: '10.244.1.2', name: 'pod-one' },
    { ns: `${prefix}-p2`, ip: '10.244.1.3', name: 'pod-two' },
  ];
  let tmp: string;
  let hostBefore: string;
  let hostNftBefore: string;
  let api: RunningApiServer | undefined;
  let client: HttpClient | undefined;
  let proxy: RunningKubeProxy | undefined;
  const children: ChildProcess[] = [];
  let web: Service;
  let empty: Service;

  const nodeRules = async (): Promise<string> =>
    (mode === 'nftables' ? await execIn(nodeNs, 'nft', ['list', 'table', 'ip', 'kube-proxy'], { allowFailure: true }) : await execIn(nodeNs, 'iptables-save', [])).stdout;
  const dnatTo = (ip: string): string => (mode === 'nftables' ? `dnat to ${ip}:8080` : `--to-destination ${ip}:8080`);
  /** The service-ips map element sending the ClusterIP's port to the Service's chain. */
  const serviceIPsElement = (ip: string): RegExp => new RegExp(`${ip.replaceAll('.', '\\.')} \\. tcp \\. 80 : goto service-[A-Z2-7]{8}-default/web/tcp/http\\b`);
  const programmed = async (): Promise<boolean> => {
    const rules = await nodeRules();
    return mode === 'nftables' ? serviceIPsElement(web.spec?.clusterIP as string).test(rules) : rules.includes('default/web:http cluster IP');
  };

  beforeAll(async () => {
    hostBefore = await hostIptables();
    hostNftBefore = await hostNftTables();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kemu-kp-'));
    for (const ns of [nodeNs, clientNs, ...servers.map((s) => s.ns)]) await createNetns(ns);
    await ipBatch(nodeNs, [
      { args: ['link', 'set', 'lo', 'up'] },
      { args: ['link', 'add', 'cni0', 'type', 'bridge'] },
      { args: ['addr', 'add', '10.244.1.1/24', 'dev', 'cni0'] },
      { args: ['link', 'set', 'cni0', 'up'] },
      { args: ['link', 'add', 'vc', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', clientNs] },
      { args: ['addr', 'add', '10.244.9.1/24', 'dev', 'vc'] },
      { args: ['link', 'set', 'vc', 'up'] },
      ...servers.flatMap((s, i) => [
        { args: ['link', 'add', `vp${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', s.ns] },
        { args: ['link', 'set', `vp${i}`, 'master', 'cni0', 'up'] },
      ]),
    ]);
    await execIn(nodeNs, 'sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1']);
    for (const [ns, ip, gw] of [[clientNs, '10.244.9.2/24', '10.244.9.1'], ...servers.map((s) => [s.ns, `${s.ip}/24`, '10.244.1.1'])]) {
      await ipBatch(ns, [
        { args: ['link', 'set', 'lo', 'up'] },
        { args: ['addr', 'add', ip, 'dev', 'eth0'] },
        { args: ['link', 'set', 'eth0', 'up'] },
        { args: ['route', 'add', 'default', 'via', gw] },
      ]);
      // Per-destination timestamp offsets make SYNs to a reused 4-tuple stall (research baselines, finding 4).
      await execIn(ns, 'sysctl', ['-q', '-w', 'net.ipv4.tcp_timestamps=2']);
    }
    for (const s of servers) {
      const script = `require('http').createServer((q, r) => r.end('${s.name}')).listen(8080, '0.0.0.0')`;
      const [cmd, args] = argvIn(s.ns, process.execPath, ['-e', script]);
      children.push(spawn(cmd, args, { stdio: 'ignore' }));
    }

    const config = defaultClusterConfig(prefix);
    api = await startApiServer({ storeDir: path.join(tmp, 'store'), socketPath: path.join(tmp, 'api.sock'), config });
    client = new HttpClient({ socketPath: path.join(tmp, 'api.sock') });
    await client.create<Node>(kind('Node'), undefined, {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: nodeNs },
      status: { addresses: [{ type: 'InternalIP', address: '10.244.1.1' }] },
    });
    const service = (name: string): Service => ({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace: 'default' },
      spec: { ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] },
    });
    web = await client.create<Service>(kind('Service'), 'default', service('web'));
    empty = await client.create<Service>(kind('Service'), 'default', service('empty'));
    await client.create<EndpointSlice>(kind('EndpointSlice'), 'default', slice(nodeNs, servers.map((s) => s.ip)));
    proxy = await startKubeProxy({ client, nodeName: nodeNs, config, mode, netns: nodeNs, minSyncPeriodMs: 200, log: () => {} });
    expect(await eventually(programmed)).toBe(true);
    for (const s of servers) expect(await eventually(async () => (await curlIn(s.ns, 'http://127.0.0.1:8080')).stdout === s.name)).toBe(true);
  });

  afterAll(async () => {
    const steps: (() => Promise<unknown> | void)[] = [
      ...children.map((c) => () => void (c.pid && c.exitCode === null && process.kill(c.pid, 'SIGKILL'))),
      () => proxy?.stop(),
      () => client?.close(),
      () => api?.close(),
      async () => {
        for (const ns of [clientNs, ...servers.map((s) => s.ns), nodeNs]) await deleteNetns(ns);
      },
    ];
    for (const step of steps) {
      try {
        await step();
      } catch (e) {
        console.error('kube-proxy cleanup:', e);
      }
    }
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    expect(listNetns().filter((n) => n.startsWith(prefix))).toEqual([]);
    expect(await hostIptables()).toBe(hostBefore);
    expect(await hostNftTables()).toBe(hostNftBefore);
  });

  (mode === 'iptables' ? it : noTest)('programs KUBE-SERVICES, KUBE-SVC-* and one KUBE-SEP-* per endpoint with the Service comment', async () => {
    const rules = await nodeRules();
    const ip = web.spec?.clusterIP as string;
    const dispatch = rules.split('\n').find((l) => l.startsWith('-A KUBE-SERVICES') && l.includes(`-d ${ip}/32`));
    expect(dispatch).toMatch(/--comment "default\/web:http cluster IP".*--dport 80 -j KUBE-SVC-[A-Z2-7]{16}$/);
    for (const s of servers) expect(rules).toMatch(new RegExp(`-A KUBE-SEP-[A-Z2-7]{16} .*-j DNAT --to-destination ${s.ip.replaceAll('.', '\\.')}:8080`));
    expect(rules).toContain('-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES');
  });

  (mode === 'nftables' ? it : noTest)('maps the ClusterIP to the Service chain in service-ips and DNATs in one chain per endpoint', async () => {
    const rules = await nodeRules();
    expect(rules).toMatch(serviceIPsElement(web.spec?.clusterIP as string));
    for (const s of servers) {
      const chain = new RegExp(`chain endpoint-[A-Z2-7]{8}-default/web/tcp/http__${s.ip.replaceAll('.', '\\.')}/8080 \\{[^}]*dnat to ${s.ip.replaceAll('.', '\\.')}:8080`);
      expect(rules).toMatch(chain);
    }
    // the base chains hook into the kernel's nat table
    expect(rules).toMatch(/chain nat-prerouting \{\s*type nat hook prerouting priority dstnat; policy accept;\s*jump services/);
  });

  it('spreads ClusterIP connections over both endpoints', async () => {
    const seen = new Map<string, number>();
    for (let i = 0; i < 40; i++) {
      const r = await curlIn(clientNs, `http://${web.spec?.clusterIP}/`);
      expect(r.code).toBe(0);
      seen.set(r.stdout, (seen.get(r.stdout) ?? 0) + 1);
    }
    expect([...seen.keys()].sort()).toEqual(servers.map((s) => s.name).sort());
  });

  it('refuses a Service without endpoints at once (REJECT, not a timeout)', async () => {
    const noEndpoints =
      mode === 'nftables' ? `${empty.spec?.clusterIP} . tcp . 80 comment "default/empty:http" : goto reject-chain` : '"default/empty:http has no endpoints"';
    expect(await nodeRules()).toContain(noEndpoints);
    const started = Date.now();
    const r = await curlIn(clientNs, `http://${empty.spec?.clusterIP}/`, 5);
    expect(r.code).toBe(7); // curl: couldn't connect
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('drops a removed endpoint from the rules within a second', async () => {
    const current = await client!.get<EndpointSlice>(kind('EndpointSlice'), 'default', 'web-abc');
    await client!.update<EndpointSlice>(kind('EndpointSlice'), 'default', { ...current, endpoints: slice(nodeNs, [servers[0].ip]).endpoints });
    const started = Date.now();
    expect(await eventually(async () => !(await nodeRules()).includes(dnatTo(servers[1].ip)), 1000)).toBe(true);
    expect(Date.now() - started).toBeLessThanOrEqual(1100);
    expect(await nodeRules()).toContain(dnatTo(servers[0].ip));
    for (let i = 0; i < 5; i++) expect((await curlIn(clientNs, `http://${web.spec?.clusterIP}/`)).stdout).toBe(servers[0].name);
  });

  it('serves /metrics and /healthz inside the node namespace', async () => {
    const metrics = await curlIn(nodeNs, 'http://127.0.0.1:10249/metrics');
    expect(metrics.code).toBe(0);
    expect(metrics.stdout).toContain('# TYPE kubeproxy_sync_proxy_rules_duration_seconds histogram');
    const count = /^kubeproxy_sync_proxy_rules_duration_seconds_count (\d+)$/m.exec(metrics.stdout);
    expect(Number(count?.[1])).toBeGreaterThanOrEqual(2); // the first sync and the endpoint removal
    if (mode === 'iptables') expect(metrics.stdout).toMatch(/^kubeproxy_sync_proxy_rules_iptables_total\{table="nat"\} [1-9]\d*$/m);
    else expect(metrics.stdout).toMatch(/^kubeproxy_sync_proxy_rules_nftables_sync_failures_total 0$/m);
    const healthz = await curlIn(nodeNs, 'http://127.0.0.1:10256/healthz');
    expect(healthz.code).toBe(0);
    const body = JSON.parse(healthz.stdout) as { lastUpdated: string; currentTime: string; nodeEligible: boolean };
    expect(body.nodeEligible).toBe(true);
    expect(Date.parse(body.lastUpdated)).toBeLessThanOrEqual(Date.parse(body.currentTime));
    expect(Date.parse(body.lastUpdated)).toBeGreaterThan(Date.now() - 60_000);
    // both ports listen in the node's namespace, on every address
    const listening = (await execIn(nodeNs, 'ss', ['-Htln'])).stdout;
    expect(listening).toMatch(/0\.0\.0\.0:10249/);
    expect(listening).toMatch(/0\.0\.0\.0:10256/);
  });
});
