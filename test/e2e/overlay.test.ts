// The host topology and the flannel overlay on a real kernel: an underlay bridge and three node
// namespaces (unique cluster name and underlay /24), an in-process API server with the node IPAM
// controller, flannel for every node driven from this process through its netns option, and one
// "pod" per node (cni0 + veth, made with plain ip commands). Checks pod-to-pod ping and TCP over
// VXLAN, a node leaving, host-gw, subnet.env, and that teardown leaves the host byte-identical.
// Needs root.

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterPaths, defaultClusterConfig, type ClusterConfig } from '../../src/api/cluster.js';
import { HttpClient } from '../../src/api/http-client.js';
import { RESOURCES, type ResourceType } from '../../src/api/resources.js';
import { startApiServer, type RunningApiServer } from '../../src/api/server/apiserver.js';
import type { Node } from '../../src/api/types.js';
import { startFlannel, type RunningFlannel } from '../../src/cni/flannel/flannel.js';
import type { Backend } from '../../src/cni/flannel/lease.js';
import { parseSubnetEnv, subnetEnvPath } from '../../src/cni/flannel/subnet-env.js';
import { recordResource } from '../../src/cni/topology/ledger.js';
import { nodeNames } from '../../src/cni/topology/names.js';
import { teardownCluster } from '../../src/cni/topology/teardown.js';
import { createUnderlay, type UnderlayResult } from '../../src/cni/topology/underlay.js';
import { startNodeIpamController, type RunningController } from '../../src/controllers/node-ipam.js';
import { exec } from '../../src/sys/exec.js';
import { ipBatch, showLinks, showRoutes } from '../../src/sys/iproute.js';
import { createNetns, execIn, listNetns } from '../../src/sys/netns.js';

const NODES = RESOURCES.find((r) => r.kind === 'Node') as ResourceType;
const isRoot = process.getuid?.() === 0;
const cluster = `t-ovl-${randomBytes(2).toString('hex')}`;
const underlayCIDR = `172.31.${randomInt(1, 255)}.0/24`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Host state that must come back byte-identical; only packet/byte counters and timestamps are stripped. */
async function hostSnapshot(): Promise<Record<string, string>> {
  const out = async (cmd: string, args: string[]) => (await exec(cmd, args)).stdout;
  return {
    netns: await out('ip', ['netns', 'list']),
    links: await out('ip', ['-j', 'link']),
    routes: await out('ip', ['-j', 'route']),
    nft: (await out('nft', ['list', 'ruleset'])).replace(/counter packets \d+ bytes \d+/g, 'counter'),
    iptables: (await out('iptables-save', []))
      .split('\n')
      .filter((l) => !l.startsWith('#'))
      .map((l) => l.replace(/\[\d+:\d+\]/g, '[0:0]'))
      .join('\n'),
  };
}

/** Polls check() until it is true or timeoutMs passes; returns its last answer. */
async function eventually(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > until) return false;
    await sleep(100);
  }
}

interface Pod {
  node: string;
  netns: string;
  ip: string;
}

let config: ClusterConfig;
let stateDir: string;
let tmpRoot: string;
let before: Record<string, string>;
let underlay: UnderlayResult;
let api: RunningApiServer | undefined;
let client: HttpClient | undefined;
let ipam: RunningController | undefined;
const flannels = new Map<string, RunningFlannel>();
const pods = new Map<string, Pod>();
const children: ChildProcess[] = [];
const nodes = nodeNames(cluster, 2);

async function runFlannel(backend: Backend): Promise<void> {
  for (const f of flannels.values()) await f.stop();
  flannels.clear();
  for (const node of nodes) {
    const known = await client!.list<Node>(NODES);
    if (!known.items.some((n) => n.metadata.name === node)) continue;
    const f = await startFlannel({ client: client!, nodeName: node, config, backend, stateDir, netns: node, resyncMs: 1000, log: () => {} });
    flannels.set(node, f);
  }
}

async function podCIDR(node: string): Promise<string | undefined> {
  return (await client!.get<Node>(NODES, undefined, node)).spec?.podCIDR;
}

/** A pod as the CNI plugin would make it: cni0 <subnet>.1/24, veth, eth0 <subnet>.2/24, default via .1. */
async function makePod(node: string, index: number): Promise<Pod> {
  const cidr = (await podCIDR(node)) as string;
  const base = cidr.split('/')[0].split('.').slice(0, 3).join('.');
  const netns = `${cluster}-p${index}`;
  recordResource(stateDir, { kind: 'netns', name: netns });
  await createNetns(netns);
  const hostVeth = `vp${index}`;
  await ipBatch(node, [
    { args: ['link', 'add', 'cni0', 'mtu', '1450', 'type', 'bridge'] },
    { args: ['addr', 'add', `${base}.1/24`, 'dev', 'cni0'] },
    { args: ['link', 'set', 'cni0', 'up'] },
    { args: ['link', 'add', hostVeth, 'mtu', '1450', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns] },
    { args: ['link', 'set', hostVeth, 'master', 'cni0', 'up'] },
  ]);
  await ipBatch(netns, [
    { args: ['link', 'set', 'lo', 'up'] },
    { args: ['addr', 'add', `${base}.2/24`, 'dev', 'eth0'] },
    { args: ['link', 'set', 'eth0', 'up'] },
    { args: ['route', 'add', 'default', 'via', `${base}.1`] },
  ]);
  return { node, netns, ip: `${base}.2` };
}

async function ping(from: Pod, to: Pod): Promise<boolean> {
  const r = await execIn(from.netns, 'ping', ['-c', '1', '-W', '1', to.ip], { allowFailure: true });
  return r.code === 0;
}

async function flannelCounters(node: string): Promise<{ tx: number; rx: number }> {
  const { stdout } = await execIn(node, 'ip', ['-j', '-s', 'link', 'show', 'flannel.1']);
  const [link] = JSON.parse(stdout) as { stats64: { tx: { packets: number }; rx: { packets: number } } }[];
  return { tx: link.stats64.tx.packets, rx: link.stats64.rx.packets };
}

async function routesVia(node: string, dev: string): Promise<string[]> {
  return (await showRoutes(node)).filter((r) => r.dev === dev && r.gateway).map((r) => `${r.dst} via ${r.gateway}`).sort();
}

describe.runIf(isRoot)('flannel overlay on a real topology', () => {
  beforeAll(async () => {
    before = await hostSnapshot();
    tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'kemu-ovl-'));
    process.env.KEMU_STATE_ROOT = tmpRoot;
    config = { ...defaultClusterConfig(cluster), underlayCIDR };
    stateDir = clusterPaths(cluster).dir;
    underlay = await createUnderlay(config, nodes, stateDir);
    api = await startApiServer({ storeDir: path.join(stateDir, 'store'), socketPath: path.join(stateDir, 'api.sock'), config });
    client = new HttpClient({ socketPath: path.join(stateDir, 'api.sock') });
    for (const n of underlay.nodes) {
      await client.create<Node>(NODES, undefined, {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name: n.node, labels: { 'kubernetes.io/hostname': n.node } },
        status: { addresses: [{ type: 'InternalIP', address: n.ip }] },
      });
    }
    ipam = await startNodeIpamController(client, config, () => {});
    expect(await eventually(async () => (await Promise.all(nodes.map(podCIDR))).every(Boolean))).toBe(true);
    await runFlannel('vxlan');
    for (const [i, node] of nodes.entries()) pods.set(node, await makePod(node, i));
  });

  afterAll(async () => {
    // Every step on its own: one failing must not leave the rest behind.
    const steps: (() => Promise<unknown> | void)[] = [
      ...children.map((c) => () => void (c.pid && process.kill(c.pid, 'SIGKILL'))),
      async () => {
        for (const f of flannels.values()) await f.stop();
      },
      () => ipam?.stop(),
      () => client?.close(),
      () => api?.close(),
      () => teardownCluster(cluster, stateDir),
    ];
    for (const step of steps) {
      try {
        await step();
      } catch (e) {
        console.error('overlay cleanup:', e);
      }
    }
    delete process.env.KEMU_STATE_ROOT;
    if (tmpRoot) fs.rmSync(tmpRoot, { recursive: true, force: true });
    expect(listNetns().filter((n) => n.startsWith(`${cluster}-`))).toEqual([]);
    expect(await hostSnapshot()).toEqual(before);
  });

  it('builds the underlay: nodes on the bridge, no default route, forwarding on', async () => {
    const [cp, worker] = underlay.nodes;
    expect(cp.ip).toBe(underlayCIDR.replace('.0/24', '.2'));
    expect((await showRoutes(cp.netns)).some((r) => r.dst === 'default')).toBe(false);
    expect((await execIn(worker.netns, 'sysctl', ['-n', 'net.ipv4.ip_forward'])).stdout.trim()).toBe('1');
    expect((await execIn(cp.netns, 'ping', ['-c', '1', '-W', '1', worker.ip], { allowFailure: true })).code).toBe(0);
    // running `up` again on a built cluster fails nothing and creates nothing more
    const shape = async () => (await showLinks(undefined)).map((l) => `${l.ifname}@${l.master ?? ''}/${l.mtu}`).join(' ');
    const links = await shape();
    await createUnderlay(config, nodes, stateDir);
    expect(await shape()).toBe(links);
    // node IPAM gave the control plane the first /24
    expect(await podCIDR(cp.node)).toBe('10.244.0.0/24');
  });

  it('annotates every Node and reports NetworkUnavailable=False', async () => {
    expect(
      await eventually(async () => {
        const list = await client!.list<Node>(NODES);
        return list.items.every((n) => n.status?.conditions?.some((c) => c.type === 'NetworkUnavailable' && c.reason === 'FlannelIsUp'));
      }),
    ).toBe(true);
    const worker = await client!.get<Node>(NODES, undefined, nodes[1]);
    const a = worker.metadata.annotations ?? {};
    expect(a['flannel.alpha.coreos.com/backend-type']).toBe('vxlan');
    expect(a['flannel.alpha.coreos.com/public-ip']).toBe(underlay.nodes[1].ip);
    expect(a['flannel.alpha.coreos.com/kube-subnet-manager']).toBe('true');
    const { stdout } = await execIn(nodes[1], 'ip', ['-j', 'link', 'show', 'flannel.1']);
    const mac = (JSON.parse(stdout) as { address: string }[])[0].address;
    expect(JSON.parse(a['flannel.alpha.coreos.com/backend-data'])).toEqual({ VNI: 1, VtepMAC: mac });
  });

  it('writes subnet.env with the node subnet and the VXLAN MTU', async () => {
    const cidr = (await podCIDR(nodes[1])) as string;
    const env = parseSubnetEnv(fs.readFileSync(subnetEnvPath(stateDir, nodes[1]), 'utf8'));
    expect(env).toEqual({
      FLANNEL_NETWORK: '10.244.0.0/16',
      FLANNEL_SUBNET: cidr.replace('.0/24', '.1/24'),
      FLANNEL_MTU: '1450',
      FLANNEL_IPMASQ: 'true',
    });
    const save = (await execIn(nodes[1], 'iptables-save', [])).stdout;
    expect(save).toContain('-A POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG');
    expect(save).toContain(`-A FLANNEL-POSTRTG -s ${cidr} -d 10.244.0.0/16 -m comment --comment "flanneld masq" -j RETURN`);
    expect(save.match(/-j FLANNEL-FWD/g)).toHaveLength(1);
  });

  it('carries ping and TCP between pods on different nodes over flannel.1', async () => {
    const [p0, p1, p2] = nodes.map((n) => pods.get(n)!);
    const routes = await routesVia(nodes[0], 'flannel.1');
    expect(routes).toEqual([p1, p2].map((p) => `${p.ip.replace(/\.2$/, '.0')}/24 via ${p.ip.replace(/\.2$/, '.0')}`).sort());
    const counters = await flannelCounters(nodes[0]);
    expect(await eventually(() => ping(p0, p1))).toBe(true);
    expect(await ping(p2, p0)).toBe(true);
    const after = await flannelCounters(nodes[0]);
    expect(after.tx).toBeGreaterThan(counters.tx);
    expect(after.rx).toBeGreaterThan(counters.rx);

    const server = spawn('ip', ['netns', 'exec', p1.netns, process.execPath, '-e',
      "require('net').createServer((s) => s.end('hello ' + s.remoteAddress)).listen(8080, '0.0.0.0', () => console.log('ready'))"], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(server);
    await new Promise((resolve) => server.stdout!.once('data', resolve));
    const reply = await execIn(p0.netns, process.execPath, ['-e',
      `const s = require('net').connect(8080, '${p1.ip}'); let d = ''; s.on('data', (c) => (d += c)); s.on('end', () => console.log(d)); s.setTimeout(3000, () => process.exit(2));`]);
    // pod to pod keeps its source address (FLANNEL-POSTRTG returns before any masquerade)
    expect(reply.stdout.trim()).toBe(`hello ${p0.ip}`);
  });

  it('vxlan: leaves an FDB entry removed by hand alone (lease events only, as flannel), and programs it again at its next start', async () => {
    const p2 = pods.get(nodes[2])!;
    const fdbOf = async () => (await execIn(nodes[0], 'bridge', ['fdb', 'show', 'dev', 'flannel.1'])).stdout;
    const entry = (await fdbOf()).split('\n').find((l) => l.includes(`dst ${underlay.nodes[2].ip} `))!;
    const mac = entry.split(' ')[0]!;
    await execIn(nodes[0], 'bridge', ['fdb', 'del', mac, 'dev', 'flannel.1', 'dst', underlay.nodes[2].ip]);
    // three of the test's 1 s check periods: the iptables check runs, the FDB is not looked at
    await sleep(3000);
    expect(await fdbOf()).not.toContain(mac);
    expect(await ping(pods.get(nodes[0])!, p2)).toBe(false);
    await flannels.get(nodes[0])!.stop();
    flannels.set(nodes[0], await startFlannel({ client: client!, nodeName: nodes[0], config, backend: 'vxlan', stateDir, netns: nodes[0], resyncMs: 1000, log: () => {} }));
    expect(await eventually(async () => (await fdbOf()).includes(`${mac} dst ${underlay.nodes[2].ip} `))).toBe(true);
    expect(await eventually(() => ping(pods.get(nodes[0])!, p2))).toBe(true);
  });

  it('removes a leaving node\'s route, neighbour and FDB entry on the others', async () => {
    const gone = nodes[2];
    const p2 = pods.get(gone)!;
    const vtep = p2.ip.replace(/\.2$/, '.0');
    await client!.delete(NODES, undefined, gone);
    await flannels.get(gone)?.stop();
    flannels.delete(gone);
    expect(await eventually(async () => !(await routesVia(nodes[0], 'flannel.1')).some((r) => r.includes(vtep)))).toBe(true);
    const neigh = (await execIn(nodes[0], 'ip', ['neigh', 'show', 'dev', 'flannel.1'])).stdout;
    expect(neigh).not.toContain(vtep);
    const fdb = (await execIn(nodes[0], 'bridge', ['fdb', 'show', 'dev', 'flannel.1'])).stdout;
    expect(fdb).not.toContain(underlay.nodes[2].ip);
    expect(fdb).toContain(underlay.nodes[1].ip);
    expect(await ping(pods.get(nodes[0])!, p2)).toBe(false);
  });

  it('host-gw: routes via the peer underlay address, no flannel.1, pods still reach each other', async () => {
    await runFlannel('host-gw');
    const [p0, p1] = [pods.get(nodes[0])!, pods.get(nodes[1])!];
    const want = [`${p1.ip.replace(/\.2$/, '.0')}/24 via ${underlay.nodes[1].ip}`];
    expect(await eventually(async () => JSON.stringify(await routesVia(nodes[0], 'eth0')) === JSON.stringify(want))).toBe(true);
    expect((await execIn(nodes[0], 'ip', ['link', 'show', 'flannel.1'], { allowFailure: true })).code).not.toBe(0);
    expect(await eventually(() => ping(p0, p1))).toBe(true);
    // host-gw keeps flannel's route check: a route deleted by hand is back within a check period
    await ipBatch(nodes[0], [{ args: ['route', 'del', want[0]!.split(' ')[0]!] }]);
    expect(await eventually(async () => JSON.stringify(await routesVia(nodes[0], 'eth0')) === JSON.stringify(want), 5000)).toBe(true);
    expect(await eventually(async () => parseSubnetEnv(fs.readFileSync(subnetEnvPath(stateDir, nodes[0]), 'utf8')).FLANNEL_MTU === '1500')).toBe(true);
  });
});
