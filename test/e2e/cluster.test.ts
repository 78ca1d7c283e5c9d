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

const repo = path.resolve(import.meta.dirname, '../..');
const CLI = path.join(repo, 'dist/cli/main.js');
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kemu-cluster-e2e-'));
const suffix = Math.random().toString(36).slice(2, 6);
const CLUSTER = `t-e2e-${suffix}`;
// Its own underlay, away from the default 172.18.0.0/16 and from other test clusters.
const UNDERLAY = `172.30.${10 + Math.floor(Math.random() * 200)}.0/24`;
const env = { ...process.env, KEMU_STATE_ROOT: root, KEMU_CLUSTER: CLUSTER };

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function kemu(args: string[], timeout = 90_000): Promise<Result> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd: repo, env, timeout }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

async function kemuOk(args: string[], timeout?: number): Promise<string> {
  const r = await kemu(args, timeout);
  if (r.code !== 0) throw new Error(`kemu ${args.join(' ')} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

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

interface PodInfo {
  name: string;
  ip: string;
  node: string;
}

async function pods(selector: string): Promise<PodInfo[]> {
  const list = JSON.parse(await kemuOk(['get', 'pods', '-l', selector, '-o', 'json'])) as {
    items: { metadata: { name: string }; spec: { nodeName: string }; status: { podIP: string } }[];
  };
  return list.items.map((p) => ({ name: p.metadata.name, ip: p.status.podIP, node: p.spec.nodeName }));
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

const NETEXEC = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: netexec
spec:
  replicas: 3
  selector:
    matchLabels:
      app: netexec
  template:
    metadata:
      labels:
        app: netexec
    spec:
      containers:
      - name: netexec
        image: registry.k8s.io/e2e-test-images/agnhost:2.47
        args: ["netexec", "--http-port=8080", "--udp-port=8081"]
        readinessProbe:
          httpGet:
            path: /healthz
            port: 8080
          periodSeconds: 1
`;

const SERVICES = `apiVersion: v1
kind: Service
metadata:
  name: netexec
spec:
  selector:
    app: netexec
  ports:
  - name: http
    port: 80
    targetPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: netexec-np
spec:
  type: NodePort
  selector:
    app: netexec
  ports:
  - name: http
    port: 80
    targetPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: netexec-lb
spec:
  type: LoadBalancer
  selector:
    app: netexec
  ports:
  - name: http
    port: 8088
    targetPort: 8080
`;

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

  it('names the missing programs and their Debian packages, creating nothing', async () => {
    const r = await new Promise<Result>((resolve) => {
      execFile(process.execPath, [CLI, 'up', '--underlay-cidr', UNDERLAY], { cwd: repo, env: { ...env, PATH: '/nonexistent-kemu-path' } }, (err, stdout, stderr) =>
        resolve({ code: err ? Number(err.code) : 0, stdout, stderr }),
      );
    });
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
    const file = path.join(root, 'netexec.yaml');
    fs.writeFileSync(file, NETEXEC);
    await kemuOk(['apply', '-f', file]);
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
    const nodeIP = (n: string) => (JSON.parse(sh('ip', ['-n', n, '-j', 'addr', 'show', 'eth0'])) as { addr_info: { family: string; local: string }[] }[])[0].addr_info.find((x) => x.family === 'inet')!.local;
    const capture = captureVxlan(b.node, 2, 8);
    await capture.listening;
    await kemuOk(['exec', a.name, '--', 'curl', '-s', '--max-time', '5', `http://${b.ip}:8080/hostname`]);
    const seen = await capture.output;
    expect(seen).toContain(`${nodeIP(a.node)}.`);
    expect(seen).toMatch(new RegExp(`> ${nodeIP(b.node).replaceAll('.', '\\.')}\\.8472: (OTV|VXLAN)`));

    expect((await kemuOk(['exec', a.name, '--', 'hostname'])).trim()).toBe(a.name);
  }, 120_000);

  it('gives nodes their subnets in node order, as kind does (control plane .0, worker .1, worker2 .2)', async () => {
    const list = JSON.parse(await kemuOk(['get', 'nodes', '-o', 'json'])) as { items: { metadata: { name: string }; spec: { podCIDR: string } }[] };
    const cidrs = Object.fromEntries(list.items.map((n) => [n.metadata.name, n.spec.podCIDR]));
    expect(cidrs).toEqual({ [`${CLUSTER}-control-plane`]: '10.244.0.0/24', [`${CLUSTER}-worker`]: '10.244.1.0/24', [`${CLUSTER}-worker2`]: '10.244.2.0/24' });
  });

  it('serves a ClusterIP Service from every node and a NodePort from the host (kube-proxy, iptables)', async () => {
    const file = path.join(root, 'svc.yaml');
    fs.writeFileSync(file, SERVICES);
    await kemuOk(['apply', '-f', file]);
    const list = await pods('app=netexec');
    const svc = JSON.parse(await kemuOk(['get', 'svc', 'netexec', '-o', 'json'])) as { spec: { clusterIP: string } };
    const np = JSON.parse(await kemuOk(['get', 'svc', 'netexec-np', '-o', 'json'])) as { spec: { ports: { nodePort: number }[] } };
    const names = new Set(list.map((p) => p.name));
    // kube-proxy syncs at most once a second: the first request may come before the rules.
    const url = `http://${svc.spec.clusterIP}/hostname`;
    for (const p of list) {
      let answer = '';
      for (let i = 0; i < 30 && !names.has(answer); i++) {
        answer = (await kemu(['exec', p.name, '--', 'curl', '-s', '--max-time', '2', url])).stdout.trim();
        if (!names.has(answer)) await new Promise((r) => setTimeout(r, 200));
      }
      expect(names).toContain(answer);
    }
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
    await kemuOk(['up', '--nodes', '1', '--underlay-cidr', UNDERLAY]);
    const file = path.join(root, 'netexec.yaml');
    await kemuOk(['apply', '-f', file]);
    await kemuOk(['wait', '--for=condition=Ready', 'pod', '-l', 'app=netexec', '--timeout=60s'], 70_000);
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
    await kemuOk(['up', '--nodes', '1', '--backend', 'host-gw', '--underlay-cidr', UNDERLAY]);
    await kemuOk(['apply', '-f', path.join(root, 'netexec.yaml')]);
    await kemuOk(['wait', '--for=condition=Ready', 'pod', '-l', 'app=netexec', '--timeout=60s'], 70_000);
    const list = await pods('app=netexec');
    const a = list.find((p) => p.node === `${CLUSTER}-control-plane`)!;
    const b = list.find((p) => p.node === `${CLUSTER}-worker`)!;
    expect(sh('ip', ['-n', a.node, 'link', 'show'])).not.toContain('flannel.1');
    const workerIP = (JSON.parse(sh('ip', ['-n', b.node, '-j', 'addr', 'show', 'eth0'])) as { addr_info: { family: string; local: string }[] }[])[0].addr_info.find(
      (x) => x.family === 'inet',
    )!.local;
    expect(sh('ip', ['-n', a.node, 'route', 'show', '10.244.1.0/24'])).toContain(`via ${workerIP} dev eth0`);
    const tcp = await kemuOk(['exec', a.name, '--', 'curl', '-s', '--max-time', '5', `http://${b.ip}:8080/hostname`]);
    expect(tcp.trim()).toBe(b.name);
    await kemuOk(['exec', a.name, '--', 'ping', '-c', '1', '-W', '2', b.ip]);
    await kemuOk(['down']);
    expect(hostSnapshot()).toEqual(before);
  }, 150_000);

  it('serves a ClusterIP Service in nftables mode too, and leaves the host as before', async () => {
    await kemuOk(['up', '--nodes', '1', '--proxy-mode', 'nftables', '--underlay-cidr', UNDERLAY]);
    await kemuOk(['apply', '-f', path.join(root, 'netexec.yaml')]);
    await kemuOk(['apply', '-f', path.join(root, 'svc.yaml')]);
    await kemuOk(['wait', '--for=condition=Ready', 'pod', '-l', 'app=netexec', '--timeout=60s'], 70_000);
    const list = await pods('app=netexec');
    const names = new Set(list.map((p) => p.name));
    const svc = JSON.parse(await kemuOk(['get', 'svc', 'netexec', '-o', 'json'])) as { spec: { clusterIP: string } };
    let answer = '';
    for (let i = 0; i < 30 && !names.has(answer); i++) {
      answer = (await kemu(['exec', list[0].name, '--', 'curl', '-s', '--max-time', '2', `http://${svc.spec.clusterIP}/hostname`])).stdout.trim();
      if (!names.has(answer)) await new Promise((r) => setTimeout(r, 200));
    }
    expect(names).toContain(answer);
    expect(sh('ip', ['netns', 'exec', list[0].node, 'nft', 'list', 'table', 'ip', 'kube-proxy'])).toContain(svc.spec.clusterIP);
    await kemuOk(['down']);
    expect(hostSnapshot()).toEqual(before);
  }, 150_000);
});
