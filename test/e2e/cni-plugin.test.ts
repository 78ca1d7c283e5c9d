// kemu-cni side by side with Debian's bridge + host-local (containernetworking-plugins 1.1.1), each
// in its own node namespace, driven through our CniRuntime exactly like a container runtime would.
// Needs root and /usr/lib/cni; every namespace is kemut-<random>-* and removed in afterAll.

import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CniRuntime, parseNetworkConfigFile } from '../../src/cni/runtime.js';
import { exec } from '../../src/sys/exec.js';
import { showAddrs, showLinks, showRoutes } from '../../src/sys/iproute.js';
import type { IpLinkWithAddrs } from '../../src/sys/iproute.js';
import { createNetns, deleteNetns, execIn, netnsPath } from '../../src/sys/netns.js';
import { readSysctl } from '../../src/sys/sysctl.js';

const REAL_BIN = '/usr/lib/cni';
const REPO = path.resolve(import.meta.dirname, '../..');
const canRun = process.getuid?.() === 0 && fs.existsSync(path.join(REAL_BIN, 'bridge'));

interface Side {
  label: 'real' | 'kemu';
  node: string;
  pods: string[];
  dataDir: string;
  runtime: CniRuntime;
  confFile: string;
}

interface CniResultJson {
  cniVersion: string;
  interfaces: { name: string; mac?: string; sandbox?: string }[];
  ips: { interface: number; address: string; gateway?: string }[];
  routes: { dst: string; gw?: string }[];
  dns: Record<string, unknown>;
}

const suffix = randomBytes(3).toString('hex');
const namespaces: string[] = [];
let tmp: string;
const sides: Partial<Record<Side['label'], Side>> = {};
const side = (label: Side['label']) => sides[label]!;

async function netns(name: string): Promise<string> {
  namespaces.push(name);
  await createNetns(name);
  return name;
}

async function makeSide(label: Side['label'], type: string, binDirs: string[]): Promise<Side> {
  const node = await netns(`kemut-${suffix}-${label}`);
  const pods = [await netns(`kemut-${suffix}-${label}-p1`), await netns(`kemut-${suffix}-${label}-p2`)];
  const dataDir = path.join(tmp, label, 'ipam');
  const confFile = path.join(tmp, label, '10-cbr0.conflist');
  fs.mkdirSync(path.dirname(confFile), { recursive: true });
  // What flannel's plugin hands to its bridge delegate on a node with subnet 10.244.1.0/24.
  const delegate = {
    type,
    hairpinMode: true,
    isDefaultGateway: true,
    isGateway: true,
    ipMasq: false,
    mtu: 1450,
    ipam: { type: 'host-local', ranges: [[{ subnet: '10.244.1.0/24' }]], routes: [{ dst: '10.244.0.0/16' }], dataDir },
  };
  fs.writeFileSync(confFile, JSON.stringify({ cniVersion: '1.0.0', name: 'cbr0', plugins: [delegate] }));
  const runtime = new CniRuntime(parseNetworkConfigFile(confFile), { binDirs, cacheDir: path.join(tmp, label, 'cache'), netns: node });
  return { label, node, pods, dataDir, runtime, confFile };
}

const attachment = (s: Side, pod: number, containerID = `ctr${pod}`) => ({ containerID, netns: netnsPath(s.pods[pod - 1]!), ifname: 'eth0' });

/** One plugin call without the runtime (no cleanup DEL on failure, no cache): what it printed. */
async function callPlugin(s: Side, command: string, pod: number, containerID = `ctr${pod}`) {
  const list = parseNetworkConfigFile(s.confFile);
  const plugin = list.plugins[0]!;
  const binary = s.label === 'real' ? path.join(REAL_BIN, 'bridge') : path.join(tmp, 'bin', 'kemu-cni');
  const started = performance.now();
  const out = await execIn(s.node, binary, [], {
    input: JSON.stringify({ ...plugin, cniVersion: list.cniVersion, name: list.name }),
    env: { ...process.env, CNI_COMMAND: command, CNI_CONTAINERID: containerID, CNI_NETNS: netnsPath(s.pods[pod - 1]!), CNI_IFNAME: 'eth0', CNI_PATH: REAL_BIN, KEMU_CNI_TIMING: '1' },
    allowFailure: true,
  });
  return { ...out, wallMs: performance.now() - started, json: out.stdout.trim() ? (JSON.parse(out.stdout) as Record<string, unknown>) : undefined };
}

/** Kernel state of a node that matters to a student, minus names and MACs chosen at random. */
async function nodeState(s: Side) {
  const links = await showAddrs(s.node);
  const bridge = links.find((l) => l.ifname === 'cni0')!;
  const ports = (await showLinks(s.node)).filter((l) => l.master === 'cni0');
  return {
    bridge: { kind: bridge.linkinfo?.info_kind, mtu: bridge.mtu, up: bridge.flags.includes('UP'), addrs: inet(bridge) },
    ports: ports.map((p) => ({ name: /^veth[0-9a-f]{8}$/.test(p.ifname), mtu: p.mtu, hairpin: p.linkinfo?.info_slave_data?.hairpin, up: p.flags.includes('UP') })),
    routes: await showRoutes(s.node),
    ipForward: await readSysctl(s.node, 'net.ipv4.ip_forward'),
  };
}

async function podState(s: Side, pod: number) {
  const ns = s.pods[pod - 1]!;
  const eth0 = (await showAddrs(ns)).find((l) => l.ifname === 'eth0');
  return {
    eth0: eth0 && { mtu: eth0.mtu, up: eth0.flags.includes('UP'), addrs: inet(eth0), kind: eth0.linkinfo?.info_kind },
    arpNotify: eth0 && (await readSysctl(ns, 'net/ipv4/conf/eth0/arp_notify')),
    routes: await showRoutes(ns),
  };
}

const inet = (l: IpLinkWithAddrs) => l.addr_info.filter((a) => a.family === 'inet').map((a) => ({ local: a.local, prefixlen: a.prefixlen, broadcast: a.broadcast }));

/** IPAM directory: file name → content, except the (empty) lock. */
function ipamFiles(s: Side): Record<string, string> {
  const dir = path.join(s.dataDir, 'cbr0');
  return Object.fromEntries(
    fs
      .readdirSync(dir)
      .filter((f) => f !== 'lock')
      .sort()
      .map((f) => [f, fs.readFileSync(path.join(dir, f), 'utf8')]),
  );
}

describe.skipIf(!canRun)('kemu-cni vs the reference bridge + host-local', () => {
  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kemu-cni-e2e-'));
    // Run the TypeScript source so the test always covers the current code (bin/kemu-cni needs a build).
    fs.mkdirSync(path.join(tmp, 'bin'));
    fs.writeFileSync(
      path.join(tmp, 'bin', 'kemu-cni'),
      `#!/bin/sh\nexec node --import ${path.join(REPO, 'node_modules/tsx/dist/loader.mjs')} ${path.join(REPO, 'src/cni/plugin/main.ts')}\n`,
      { mode: 0o755 },
    );
    sides.real = await makeSide('real', 'bridge', [REAL_BIN]);
    sides.kemu = await makeSide('kemu', 'kemu-cni', [path.join(tmp, 'bin')]);
  });

  afterAll(async () => {
    for (const ns of namespaces.reverse()) await deleteNetns(ns).catch(() => undefined);
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  let results: Partial<Record<Side['label'], CniResultJson>> = {};

  it('ADD prints the same result shape', async () => {
    results = {
      real: (await side('real').runtime.add(attachment(side('real'), 1))) as CniResultJson,
      kemu: (await side('kemu').runtime.add(attachment(side('kemu'), 1))) as CniResultJson,
    };
    for (const label of ['real', 'kemu'] as const) {
      const r = results[label]!;
      expect(r.interfaces.map((i) => i.name)).toEqual(['cni0', expect.stringMatching(/^veth[0-9a-f]{8}$/), 'eth0']);
      expect(r.interfaces.map((i) => i.sandbox)).toEqual([undefined, undefined, netnsPath(side(label).pods[0]!)]);
      for (const i of r.interfaces) expect(i.mac).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    }
    const strip = (r: CniResultJson) => ({ ...r, interfaces: undefined });
    expect(strip(results.kemu!)).toEqual(strip(results.real!));
    expect(results.kemu!.ips).toEqual([{ interface: 2, address: '10.244.1.2/24', gateway: '10.244.1.1' }]);
  });

  it('leaves the same kernel state on the node and in the Pod (and lo up in ours)', async () => {
    const [realNode, kemuNode] = [await nodeState(side('real')), await nodeState(side('kemu'))];
    expect(kemuNode).toEqual(realNode);
    expect(kemuNode.bridge).toEqual({ kind: 'bridge', mtu: 1450, up: true, addrs: [{ local: '10.244.1.1', prefixlen: 24, broadcast: '10.244.1.255' }] });
    expect(kemuNode.ports).toEqual([{ name: true, mtu: 1450, hairpin: true, up: true }]);
    expect(kemuNode.ipForward).toBe('1');

    const [realPod, kemuPod] = [await podState(side('real'), 1), await podState(side('kemu'), 1)];
    expect(kemuPod).toEqual(realPod);
    expect(kemuPod.eth0).toMatchObject({ mtu: 1450, up: true, kind: 'veth', addrs: [{ local: '10.244.1.2', prefixlen: 24 }] });
    // Set in the same process as the Pod's ip -batch; the reference bridge sets it too.
    expect(kemuPod.arpNotify).toBe('1');
    expect(kemuPod.routes.map((r) => `${r.dst} ${r.gateway ?? '-'}`).sort()).toEqual(['10.244.0.0/16 10.244.1.1', '10.244.1.0/24 -', 'default 10.244.1.1']);
    // The reference bridge leaves lo to the loopback plugin; kemu-cni brings it up like a kubelet's loopback call.
    const lo = async (s: Side) => (await showLinks(s.pods[0])).find((l) => l.ifname === 'lo')!.flags.includes('UP');
    expect(await lo(side('real'))).toBe(false);
    expect(await lo(side('kemu'))).toBe(true);
  });

  it('writes the same IPAM files', () => {
    expect(ipamFiles(side('kemu'))).toEqual(ipamFiles(side('real')));
    expect(ipamFiles(side('kemu'))).toEqual({ '10.244.1.2': 'ctr1\r\neth0', 'last_reserved_ip.0': '10.244.1.2' });
  });

  it('refuses a duplicate ADD with a 999 error and keeps the first attachment', async () => {
    for (const label of ['real', 'kemu'] as const) {
      const dup = await callPlugin(side(label), 'ADD', 1);
      expect(dup.code).toBe(1);
      expect(dup.json).toMatchObject({ code: 999 });
    }
    expect(ipamFiles(side('kemu'))).toEqual(ipamFiles(side('real')));
    await expect(side('kemu').runtime.check(attachment(side('kemu'), 1))).resolves.toBeUndefined();
  });

  it('a second Pod gets .3 and the two Pods ping each other across cni0', async () => {
    const timings: string[] = [];
    for (const label of ['real', 'kemu'] as const) {
      const add = await callPlugin(side(label), 'ADD', 2);
      expect(add.code).toBe(0);
      expect((add.json as unknown as CniResultJson).ips[0]?.address).toBe('10.244.1.3/24');
      timings.push(`${label}: ${add.wallMs.toFixed(0)} ms wall ${add.stderr.trim()}`);
    }
    console.log(`second Pod ADD — ${timings.join('; ')}`);
    const kemu = side('kemu');
    const ping = await execIn(kemu.pods[0], 'ping', ['-c', '1', '-W', '2', '10.244.1.3'], { allowFailure: true, timeoutMs: 5000 });
    expect(ping.code, ping.stdout + ping.stderr).toBe(0);
    const back = await execIn(kemu.pods[1], 'ping', ['-c', '1', '-W', '2', '10.244.1.2'], { allowFailure: true, timeoutMs: 5000 });
    expect(back.code, back.stdout + back.stderr).toBe(0);
  });

  it('CHECK passes on a healthy attachment and names a deleted eth0 like the reference', async () => {
    await expect(side('kemu').runtime.check(attachment(side('kemu'), 1))).resolves.toBeUndefined();
    const errors: Record<string, unknown> = {};
    for (const label of ['real', 'kemu'] as const) {
      await exec('ip', ['-n', side(label).pods[0]!, 'link', 'del', 'eth0']);
      errors[label] = await side(label).runtime.check(attachment(side(label), 1)).catch((e: unknown) => e);
    }
    expect(errors.kemu).toMatchObject({ code: 999, msg: 'Interface name eth0 not found' });
    expect(errors.kemu).toMatchObject({ code: (errors.real as { code: number }).code, msg: (errors.real as { msg: string }).msg });
  });

  it('DEL twice succeeds and releases the address', async () => {
    for (const label of ['real', 'kemu'] as const) {
      await side(label).runtime.del(attachment(side(label), 1));
      await side(label).runtime.del(attachment(side(label), 1));
    }
    expect(ipamFiles(side('kemu'))).toEqual(ipamFiles(side('real')));
    expect(Object.keys(ipamFiles(side('kemu')))).toEqual(['10.244.1.3', 'last_reserved_ip.0']);
  });

  it('DEL after the Pod netns is gone succeeds, releases the address and keeps the bridge', async () => {
    for (const label of ['real', 'kemu'] as const) {
      await deleteNetns(side(label).pods[1]!);
      const del = await callPlugin(side(label), 'DEL', 2);
      expect(del.code, del.stdout).toBe(0);
    }
    expect(ipamFiles(side('kemu'))).toEqual({ 'last_reserved_ip.0': '10.244.1.3' });
    expect(ipamFiles(side('real'))).toEqual(ipamFiles(side('kemu')));
    expect((await showLinks(side('kemu').node)).filter((l) => l.ifname.startsWith('veth'))).toEqual([]);
    expect((await showLinks(side('kemu').node)).some((l) => l.ifname === 'cni0')).toBe(true);
  });
});
