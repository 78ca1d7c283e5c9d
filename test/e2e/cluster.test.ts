// A whole kemu cluster on the real kernel, driven as a user drives it: `kemu up`, Pods on three
// nodes talking over the VXLAN overlay by Pod IP (TCP and UDP), `kemu exec`, a node agent restart,
// `kemu down` — and the host's namespaces, links, routes and firewall byte-identical afterwards,
// also after every kemu process was killed with -9. Uses the built CLI (dist/), as `npm test` builds it.

import { execFile, execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../unit/support/api-fixture.js';
import { kemuArgv, kemuCli, repo } from './kemu-cli.js';
import { deployment, HEALTHZ_PROBE, HTTP_PORT, netexec, service, writeManifest } from './support/manifests.js';
import { curlInPod, listPods, type PodInfo } from './support/pods.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kemu-cluster-e2e-'));
const suffix = Math.random().toString(36).slice(2, 6);
const CLUSTER = `t-e2e-${suffix}`;
// Its own underlay, away from the default 172.18.0.0/16 and from other test clusters.
const UNDERLAY = `172.30.${10 + Math.floor(Math.random() * 200)}.0/24`;
const env = { ...process.env, KEMU_STATE_ROOT: root, KEMU_CLUSTER: CLUSTER };

const cli = kemuCli(env);
const { kemu, kemuOk } = cli;

const sh = (cmd: string, args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8' });

/** Everything of the host's that kemu must leave as it found it. Counters are not state. */
function hostSnapshot(): Record<string, string> {
  return {
    netns: sh('ip', ['netns', 'list']),
    links: sh('ip', ['-o', 'link', 'show']).replace(/\\\s+link\/.*$/gm, ''),
    routes: sh('ip', ['route', 'show', 'table', 'all']),
    nft: sh('nft', ['list', 'ruleset']),
    iptables: sh('iptables-save', []).replace(/^#.*$/gm, '').replace(/\[\d+:\d+\]/g, ''),
    mounts: fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(CLUSTER)).join('\n'),
  };
}

const pods = (selector: string) => listPods(cli, selector);

/** A node's underlay address, as its eth0 carries it. */
function underlayIP(node: string): string {
  const [eth0] = JSON.parse(sh('ip', ['-n', node, '-j', 'addr', 'show', 'eth0'])) as { addr_info: { family: string; local: string }[] }[];
  return eth0!.addr_info.find((x) => x.family === 'inet')!.local;
}

/**
 * Starts a bounded capture of VXLAN packets (UDP 8472) on a node's underlay eth0; resolves with
 * tcpdump's output once it saw `count` packets or `seconds` passed.
 */
function captureVxlan(node: string, count: number, seconds: number): { listening: Promise<void>; output: Promise<string> } {
  let listening!: () => void;
  const ready = new Promise<void>((r) => (listening = r));
  const output = new Promise<string>((resolve) => {
    const child = execFile(
      'timeout',
      [String(seconds), 'ip', 'netns', 'exec', node, 'tcpdump', '-l', '-n', '-i', 'eth0', '-c', String(count), 'udp', 'port', '8472'],
      (_err, stdout) => resolve(stdout),
    );
    // tcpdump says "listening on eth0" on stderr once the capture is open
    child.stderr?.on('data', (b: Buffer) => {
      if (b.toString().includes('listening on')) listening();
    });
    child.on('exit', () => listening());
  });
  return { listening: ready, output };
}

function flannelTxPackets(node: string): number {
  const [link] = JSON.parse(sh('ip', ['-n', node, '-s', '-j', 'link', 'show', 'flannel.1'])) as { stats64: { tx: { packets: number } } }[];
  return link.stats64.tx.packets;
}

const NETEXEC = [deployment('netexec', 3, [netexec('netexec', { udp: true, readinessProbe: HEALTHZ_PROBE })])];

const SERVICES = [
  service('netexec', { selector: { app: 'netexec' }, ports: [HTTP_PORT] }),
  service('netexec-np', { type: 'NodePort', selector: { app: 'netexec' }, ports: [HTTP_PORT] }),
  service('netexec-lb', { type: 'LoadBalancer', selector: { app: 'netexec' }, ports: [{ ...HTTP_PORT, port: 8088 }] }),
];
const netexecFile = writeManifest(root, 'netexec', NETEXEC);
const servicesFile = writeManifest(root, 'svc', SERVICES);

/** A one-worker cluster brought up with flags, the files applied, and the netexec Pods once Ready. */
async function upWithNetexec(flags: string[], files: string[]): Promise<PodInfo[]> {
  await kemuOk(['up', '--nodes', '1', ...flags, '--underlay-cidr', UNDERLAY]);
  for (const file of files) await kemuOk(['apply', '-f', file]);
  await kemuOk(['wait', '--for=condition=Ready', 'pod', '-l', 'app=netexec', '--timeout=60s'], 70_000);
  return pods('app=netexec');
}

let before: Record<string, string>;

beforeAll(() => {
  before = hostSnapshot();
});

afterAll(async () => {
  await kemu(['down']);
  fs.rmSync(root, { recursive: true, force: true });
});

describe('kemu up / down on the real kernel', () => {
  it('refuses a cluster name too long for interface names, creating nothing', async () => {
    const r = await kemu(['up', '--cluster', 'a-name-much-too-long-for-links']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('invalid cluster name "a-name-much-too-long-for-links"');
    expect(hostSnapshot()).toEqual(before);
  });

  it('refuses to run as a user other than root, creating nothing', async () => {
    // nobody (65534), as an unprivileged user would run it
    const r = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(process.execPath, kemuArgv(['up', '--underlay-cidr', UNDERLAY]), { cwd: repo, env, uid: 65534, gid: 65534 }, (err, _out, stderr) =>
        resolve({ code: err ? Number(err.code) : 0, stderr }),
      );
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('kemu up must run as root');
    expect(fs.existsSync(path.join(root, CLUSTER))).toBe(false);
    expect(hostSnapshot()).toEqual(before);
  });

  it('names the missing programs and their Debian packages, creating nothing', async () => {
    const r = await kemuCli({ ...env, PATH: '/nonexistent-kemu-path' }).kemu(['up', '--underlay-cidr', UNDERLAY]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ip (Debian package iproute2)');
    expect(r.stderr).toContain('apt-get install iproute2 util-linux');
    expect(fs.existsSync(path.join(root, CLUSTER))).toBe(false);
    expect(hostSnapshot()).toEqual(before);
  });

  it('brings up three Ready nodes, and a second up says so and changes nothing', async () => {
    const out = await kemuOk(['up', '--nodes', '2', '--underlay-cidr', UNDERLAY]);
    expect(out).toContain(`Cluster "${CLUSTER}" is up`);
    const nodes = await kemuOk(['get', 'nodes']);
    for (const n of ['control-plane', 'worker', 'worker2']) expect(nodes).toMatch(new RegExp(`^${CLUSTER}-${n}\\s+Ready`, 'm'));
    const again = await kemu(['up', '--nodes', '2', '--underlay-cidr', UNDERLAY]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('is already up');
  }, 120_000);

  it('runs Pods on every node that reach each other by Pod IP over the overlay (TCP and UDP)', async () => {
    await kemuOk(['apply', '-f', netexecFile]);
    await kemuOk(['wait', '--for=condition=Ready', 'pod', '-l', 'app=netexec', '--timeout=60s'], 70_000);
    const list = await pods('app=netexec');
    expect(new Set(list.map((p) => p.node)).size).toBe(3);
    for (const p of list) expect(p.ip).toMatch(/^10\.244\.\d+\.\d+$/);
    const [a, b] = list;
    const txBefore = flannelTxPackets(a.node);

    const tcp = await kemuOk(['exec', a.name, '--', 'curl', '-s', '--max-time', '5', `http://${b.ip}:8080/hostname`]);
    expect(tcp.trim()).toBe(b.name);
    const dial = `http://127.0.0.1:8080/dial?request=hostname&protocol=udp&host=${b.ip}&port=8081&tries=1`;
    const udp = JSON.parse(await kemuOk(['exec', a.name, '--', 'curl', '-s', '--max-time', '5', dial])) as { responses: string[] };
    expect(udp.responses).toEqual([b.name]);
    expect(flannelTxPackets(a.node)).toBeGreaterThan(txBefore);

    // the same request seen on the wire: VXLAN (UDP 8472) from a's node to b's node underlay address
    const capture = captureVxlan(b.node, 2, 8);
    await capture.listening;
    await kemuOk(['exec', a.name, '--', 'curl', '-s', '--max-time', '5', `http://${b.ip}:8080/hostname`]);
    const seen = await capture.output;
    expect(seen).toContain(`${underlayIP(a.node)}.`);
    expect(seen).toMatch(new RegExp(`> ${underlayIP(b.node).replaceAll('.', '\\.')}\\.8472: (OTV|VXLAN)`));

    expect((await kemuOk(['exec', a.name, '--', 'hostname'])).trim()).toBe(a.name);
  }, 120_000);

  it('gives nodes their subnets in node order, as kind does (control plane .0, worker .1, worker2 .2)', async () => {
    const list = JSON.parse(await kemuOk(['get', 'nodes', '-o', 'json'])) as { items: { metadata: { name: string }; spec: { podCIDR: string } }[] };
    const cidrs = Object.fromEntries(list.items.map((n) => [n.metadata.name, n.spec.podCIDR]));
    expect(cidrs).toEqual({ [`${CLUSTER}-control-plane`]: '10.244.0.0/24', [`${CLUSTER}-worker`]: '10.244.1.0/24', [`${CLUSTER}-worker2`]: '10.244.2.0/24' });
  });

  it('serves a ClusterIP Service from every node and a NodePort from the host (kube-proxy, iptables)', async () => {
    await kemuOk(['apply', '-f', servicesFile]);
    const list = await pods('app=netexec');
    const svc = JSON.parse(await kemuOk(['get', 'svc', 'netexec', '-o', 'json'])) as { spec: { clusterIP: string } };
    const np = JSON.parse(await kemuOk(['get', 'svc', 'netexec-np', '-o', 'json'])) as { spec: { ports: { nodePort: number }[] } };
    const names = new Set(list.map((p) => p.name));
    const url = `http://${svc.spec.clusterIP}/hostname`;
    for (const p of list) expect(names).toContain(await curlInPod(cli, p.name, url, (body) => names.has(body)));
    const seen = new Set<string>();
    for (let i = 0; i < 30; i++) seen.add((await kemuOk(['exec', list[0].name, '--', 'curl', '-s', '--max-time', '2', url])).trim());
    expect(seen.size).toBeGreaterThan(1);
    for (const s of seen) expect(names).toContain(s);
    // ...and from the nodes themselves, as on a real node (kube-proxy's OUTPUT rules).
    for (const node of new Set(list.map((p) => p.node))) {
      expect(names).toContain(sh('ip', ['netns', 'exec', node, 'curl', '-s', '--max-time', '3', url]).trim());
    }
    const nodeIPs = (JSON.parse(await kemuOk(['get', 'nodes', '-o', 'json'])) as { items: { status: { addresses: { type: string; address: string }[] } }[] }).items.map(
      (n) => n.status.addresses.find((a) => a.type === 'InternalIP')!.address,
    );
    for (const ip of nodeIPs) {
      const out = sh('curl', ['-s', '--max-time', '3', `http://${ip}:${np.spec.ports[0].nodePort}/hostname`]);
      expect(names).toContain(out.trim());
    }
    // LoadBalancer, k3s-style: the nodes' IPs are the Service's load-balancer addresses, on its own port.
    const lb = await until('the LoadBalancer addresses', async () => {
      const s = JSON.parse(await kemuOk(['get', 'svc', 'netexec-lb', '-o', 'json'])) as { status?: { loadBalancer?: { ingress?: { ip: string }[] } } };
      const ips = (s.status?.loadBalancer?.ingress ?? []).map((i) => i.ip);
      return ips.length === nodeIPs.length ? ips : undefined;
    });
    expect([...lb].sort()).toEqual([...nodeIPs].sort());
    for (const ip of lb) {
      let out = '';
      for (let i = 0; i < 15 && !names.has(out); i++) {
        out = spawnSync('curl', ['-s', '--max-time', '2', `http://${ip}:8088/hostname`], { encoding: 'utf8' }).stdout.trim();
        if (!names.has(out)) await new Promise((r) => setTimeout(r, 200));
      }
      expect(names).toContain(out);
    }
  }, 120_000);

  it('releases a deleted Pod\'s IP', async () => {
    const [victim] = await pods('app=netexec');
    const ipamFile = path.join(root, CLUSTER, 'nodes', victim.node, 'cni', 'networks', 'cbr0', victim.ip);
    expect(fs.existsSync(ipamFile)).toBe(true);
    await kemuOk(['delete', 'pod', victim.name, '--wait=true', '--timeout=60s'], 70_000);
    expect(fs.existsSync(ipamFile)).toBe(false);
  }, 90_000);

  it('keeps Pods working across a kill -9 and restart of a node agent', async () => {
    await kemuOk(['wait', '--for=condition=Ready', 'pod', '-l', 'app=netexec', '--timeout=60s'], 70_000);
    const [a, b] = await pods('app=netexec');
    const pidFile = path.join(root, CLUSTER, 'nodes', b.node, 'agent.pid');
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    process.kill(pid, 'SIGKILL');
    const restarted = execFile('nsenter', [`--net=/run/netns/${b.node}`, '--', ...argv], { env });
    fs.writeFileSync(pidFile, `${restarted.pid}\n`);
    restarted.unref();
    const tcp = await kemuOk(['exec', a.name, '--', 'curl', '-s', '--max-time', '5', `http://${b.ip}:8080/hostname`]);
    expect(tcp.trim()).toBe(b.name);
    const after = await pods('app=netexec');
    expect(after.find((p) => p.name === b.name)?.ip).toBe(b.ip);
  }, 90_000);

  it('down leaves the host exactly as before', async () => {
    await kemuOk(['down']);
    expect(hostSnapshot()).toEqual(before);
    expect(fs.existsSync(path.join(root, CLUSTER))).toBe(false);
  }, 60_000);

  it('down cleans up after every kemu process was killed with -9', async () => {
    await upWithNetexec([], [netexecFile]);
    const namespaces = sh('ip', ['netns', 'list']).split('\n').map((l) => l.split(' ')[0]).filter((n) => n.startsWith(CLUSTER));
    const pids = new Set<number>();
    for (const ns of namespaces) for (const p of sh('ip', ['netns', 'pids', ns]).split(/\s+/).filter(Boolean)) pids.add(Number(p));
    pids.add(Number(fs.readFileSync(path.join(root, CLUSTER, 'control-plane.pid'), 'utf8')));
    for (const p of pids) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await kemuOk(['down']);
    expect(hostSnapshot()).toEqual(before);
  }, 150_000);

  it('routes between nodes with the host-gw backend: a route per peer subnet via its underlay IP', async () => {
    const list = await upWithNetexec(['--backend', 'host-gw'], [netexecFile]);
    const a = list.find((p) => p.node === `${CLUSTER}-control-plane`)!;
    const b = list.find((p) => p.node === `${CLUSTER}-worker`)!;
    expect(sh('ip', ['-n', a.node, 'link', 'show'])).not.toContain('flannel.1');
    expect(sh('ip', ['-n', a.node, 'route', 'show', '10.244.1.0/24'])).toContain(`via ${underlayIP(b.node)} dev eth0`);
    const tcp = await kemuOk(['exec', a.name, '--', 'curl', '-s', '--max-time', '5', `http://${b.ip}:8080/hostname`]);
    expect(tcp.trim()).toBe(b.name);
    await kemuOk(['exec', a.name, '--', 'ping', '-c', '1', '-W', '2', b.ip]);
    await kemuOk(['down']);
    expect(hostSnapshot()).toEqual(before);
  }, 150_000);

  it('serves a ClusterIP Service in nftables mode too, and leaves the host as before', async () => {
    const list = await upWithNetexec(['--proxy-mode', 'nftables'], [netexecFile, servicesFile]);
    const names = new Set(list.map((p) => p.name));
    const svc = JSON.parse(await kemuOk(['get', 'svc', 'netexec', '-o', 'json'])) as { spec: { clusterIP: string } };
    expect(names).toContain(await curlInPod(cli, list[0].name, `http://${svc.spec.clusterIP}/hostname`, (body) => names.has(body)));
    expect(sh('ip', ['netns', 'exec', list[0].node, 'nft', 'list', 'table', 'ip', 'kube-proxy'])).toContain(svc.spec.clusterIP);
    await kemuOk(['down']);
    expect(hostSnapshot()).toEqual(before);
  }, 150_000);
});
