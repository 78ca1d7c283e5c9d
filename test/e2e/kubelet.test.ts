// The kubelet on a real kernel: one node namespace made here (no flannel: its subnet.env is written
// by hand), an in-process API server, and the kubelet as a child process inside the node namespace.
// Pods run real processes in real namespaces; everything is t-kl-<random> and removed in afterAll.
// Needs root.

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultClusterConfig, type ClusterConfig } from '../../src/api/cluster.js';
import { HttpClient } from '../../src/api/http-client.js';
import { RESOURCES, type ResourceType } from '../../src/api/resources.js';
import { startApiServer, type RunningApiServer } from '../../src/api/server/apiserver.js';
import type { Node, Pod } from '../../src/api/types.js';
import { teardownCluster } from '../../src/cni/topology/teardown.js';
import { cniDirs } from '../../src/node/cni.js';
import { stopProcessGroup } from '../../src/node/containers.js';
import { execInPodArgv, execOnNodeArgv } from '../../src/node/exec.js';
import { loadPodRecords, type PodRecord } from '../../src/node/pod-record.js';
import { etcNetnsDir } from '../../src/node/sandbox.js';
import { exec } from '../../src/sys/exec.js';
import { createNetns, deleteNetns, netnsExists } from '../../src/sys/netns.js';
import { isSameProcess, processGroupMembers, processPssKiB, processRssKiB } from '../../src/sys/procfs.js';

const REPO = path.resolve(import.meta.dirname, '../..');
const TSX = path.join(REPO, 'node_modules/tsx/dist/loader.mjs');
const canRun = process.getuid?.() === 0;

const PODS = RESOURCES.find((r) => r.kind === 'Pod') as ResourceType;
const NODES = RESOURCES.find((r) => r.kind === 'Node') as ResourceType;

const cluster = `t-kl-${randomBytes(2).toString('hex')}`;
const nodeName = `${cluster}-worker`;
const underlayIP = '172.30.77.2';
let tmp: string;
let stateDir: string;
let config: ClusterConfig;
let api: RunningApiServer;
let client: HttpClient;
let kubelet: ChildProcess | undefined;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function startKubeletProcess(): ChildProcess {
  const options = {
    socketPath: path.join(stateDir, 'api.sock'),
    nodeName,
    config,
    stateDir,
    underlayIP,
    cniBinDir: path.join(tmp, 'bin'),
    builtinRunner: [process.execPath, '--import', TSX, path.join(REPO, 'src/workloads/main.ts')],
  };
  const log = fs.openSync(path.join(tmp, 'kubelet.log'), 'a');
  // nsenter --net, not `ip netns exec`: the kubelet must share the host's mount namespace, or the
  // namespaces it bind-mounts under /run/netns would be visible to it alone.
  const child = spawn('nsenter', [`--net=/run/netns/${nodeName}`, process.execPath, '--import', TSX, path.join(REPO, 'test/fixtures/kubelet-main.ts'), JSON.stringify(options)], {
    stdio: ['ignore', log, log],
  });
  fs.closeSync(log);
  return child;
}

async function killKubelet(signal: NodeJS.Signals): Promise<void> {
  const child = kubelet;
  kubelet = undefined;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  process.kill(child.pid as number, signal);
  await gone;
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}\n${fs.readFileSync(path.join(tmp, 'kubelet.log'), 'utf8').slice(-3000)}`);
}

const getPod = (name: string) => client.get<Pod>(PODS, 'default', name);

function podSpec(name: string, container: Record<string, unknown>, extra: Record<string, unknown> = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: { nodeName, terminationGracePeriodSeconds: 5, containers: [{ name: 'c', ...container }], ...extra },
  } as Pod;
}

async function runningWithIP(name: string): Promise<Pod> {
  return waitFor(`${name} Running with an IP`, async () => {
    const pod = await getPod(name);
    return pod.status?.phase === 'Running' && pod.status.podIP ? pod : undefined;
  });
}

const recordOf = (uid: string): PodRecord => {
  const r = loadPodRecords(stateDir, nodeName).find((x) => x.uid === uid);
  if (!r) throw new Error(`no record for ${uid}`);
  return r;
};

async function inPod(pod: Pod, command: string[]): Promise<string> {
  const argv = execInPodArgv(recordOf(pod.metadata.uid as string), command);
  return (await exec(argv[0]!, argv.slice(1))).stdout;
}

const podPids = (rec: PodRecord) => rec.containers.flatMap((c) => (c.pid !== undefined ? processGroupMembers(c.pid) : []));

const latencies: Record<string, number> = {};
const created: Record<string, Pod> = {};

describe.skipIf(!canRun)('kubelet on a real node namespace', () => {
  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kemu-kubelet-e2e-'));
    process.env.KEMU_STATE_ROOT = tmp;
    stateDir = path.join(tmp, cluster);
    config = { ...defaultClusterConfig(cluster), underlayCIDR: '172.30.77.0/24' };
    fs.mkdirSync(path.join(tmp, 'bin'));
    fs.writeFileSync(path.join(tmp, 'bin', 'kemu-cni'), `#!/bin/sh\nexec ${process.execPath} --import ${TSX} ${path.join(REPO, 'src/cni/plugin/main.ts')}\n`, { mode: 0o755 });
    await createNetns(nodeName);
    await exec('ip', ['-n', nodeName, 'link', 'set', 'lo', 'up']);
    // what flannel would have written for a node holding 10.244.7.0/24
    const env = path.join(stateDir, 'nodes', nodeName, 'run', 'flannel', 'subnet.env');
    fs.mkdirSync(path.dirname(env), { recursive: true });
    fs.writeFileSync(env, 'FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.7.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n');
    api = await startApiServer({ storeDir: path.join(stateDir, 'store'), socketPath: path.join(stateDir, 'api.sock'), config });
    client = new HttpClient({ socketPath: path.join(stateDir, 'api.sock') });
    kubelet = startKubeletProcess();
  });

  afterAll(async () => {
    await killKubelet('SIGKILL');
    if (!stateDir) return;
    const records = loadPodRecords(stateDir, nodeName);
    for (const rec of records) {
      for (const c of rec.containers) if (c.pid !== undefined) await stopProcessGroup(c.pid, c.pidStartTicks, 0);
      fs.rmSync(etcNetnsDir(rec.netns), { recursive: true, force: true });
    }
    await teardownCluster(cluster, stateDir).catch(() => undefined); // pod and node namespaces, UTS mounts
    await deleteNetns(nodeName).catch(() => undefined);
    await api?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
    delete process.env.KEMU_STATE_ROOT;
  });

  it('registers its Node Ready with the kubelet facts', async () => {
    const node = await waitFor('Node Ready', async () => {
      const n = await client.get<Node>(NODES, undefined, nodeName);
      return n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? n : undefined;
    });
    expect(node.metadata.labels?.['kubernetes.io/hostname']).toBe(nodeName);
    expect(node.metadata.labels?.['node-role.kubernetes.io/control-plane']).toBeUndefined();
    expect(node.status?.addresses).toEqual([
      { type: 'InternalIP', address: underlayIP },
      { type: 'Hostname', address: nodeName },
    ]);
    expect(node.status?.nodeInfo?.kubeletVersion).toBe('v1.31.0-kemu');
    expect(node.status?.capacity?.pods).toBe('110');
  });

  it('starts Pods: Running with an IP from the node subnet', async () => {
    const pods = [
      podSpec('web', {
        image: 'registry.k8s.io/e2e-test-images/agnhost:2.53',
        args: ['netexec', '--http-port=8080'],
        readinessProbe: { httpGet: { path: '/hostname', port: 8080 }, periodSeconds: 1 },
      }),
      podSpec('sleeper', { image: 'busybox', command: ['sleep', '3600'] }),
      podSpec('pause', { image: 'registry.k8s.io/pause:3.10' }),
      podSpec('crasher', { image: 'busybox', command: ['sh', '-c', 'echo boom; exit 3'] }),
    ];
    const started = Date.now();
    await Promise.all(pods.map((p) => client.create(PODS, 'default', p)));
    await Promise.all(
      ['web', 'sleeper', 'pause'].map(async (name) => {
        created[name] = await runningWithIP(name);
        latencies[name] = Date.now() - started;
      }),
    );
    const ips = Object.values(created).map((p) => p.status!.podIP!);
    for (const ip of ips) expect(ip).toMatch(/^10\.244\.7\.(\d+)$/);
    expect(new Set(ips).size).toBe(3);
    for (const ip of ips) expect(fs.existsSync(path.join(cniDirs(stateDir, nodeName).dataDir, 'cbr0', ip))).toBe(true);
    console.log(`pod start latency (create -> Running with IP), 4 Pods created at once: ${JSON.stringify(latencies)} ms`);
  });

  it('marks the Pod Ready once its readiness probe passes', async () => {
    const pod = await waitFor('web Ready', async () => {
      const p = await getPod('web');
      return p.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? p : undefined;
    });
    expect(pod.status?.containerStatuses?.[0]).toMatchObject({ name: 'c', ready: true, started: true, restartCount: 0 });
    expect(pod.status?.hostIP).toBe(underlayIP);
  });

  it('gives each Pod its hostname, resolv.conf and hosts', async () => {
    const sleeper = created.sleeper!;
    expect((await inPod(sleeper, ['hostname'])).trim()).toBe('sleeper');
    const resolv = (await inPod(sleeper, ['cat', '/etc/resolv.conf'])).split('\n');
    expect(resolv[0]).toMatch(/^search default\.svc\.cluster\.local svc\.cluster\.local cluster\.local\b/);
    expect(resolv.slice(1)).toEqual(['nameserver 10.96.0.10', 'options ndots:5', '']);
    const hosts = await inPod(sleeper, ['cat', '/etc/hosts']);
    expect(hosts).toContain(`${sleeper.status!.podIP}\tsleeper\n`);
  });

  it('serves HTTP from the Pod to the node namespace', async () => {
    const ip = created.web!.status!.podIP!;
    const argv = execOnNodeArgv(nodeName, ['curl', '-s', '--max-time', '5', `http://${ip}:8080/hostname`]);
    expect((await exec(argv[0]!, argv.slice(1))).stdout).toBe('web');
  });

  it('restarts a container that exits, backing off', async () => {
    const pod = await waitFor(
      'crasher restarted twice',
      async () => {
        const p = await getPod('crasher');
        return (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 2 ? p : undefined;
      },
      25_000,
    );
    const status = pod.status!.containerStatuses![0]!;
    expect(status.lastState?.terminated).toMatchObject({ exitCode: 3, reason: 'Error' });
    expect(pod.status?.phase).toBe('Running');
    // after the second restart the back-off is 20 s: the container waits in CrashLoopBackOff
    const waiting = await waitFor('CrashLoopBackOff', async () => {
      const s = (await getPod('crasher')).status?.containerStatuses?.[0];
      return s?.state?.waiting?.reason === 'CrashLoopBackOff' ? s : undefined;
    });
    expect(waiting.state?.waiting?.message).toMatch(/^back-off 20s restarting failed container=c pod=crasher_default\(/);
    const log = fs.readFileSync(path.join(stateDir, 'pods', 'default_crasher', 'c.log'), 'utf8');
    expect(log).toBe('boom\n');
  }, 40_000);

  it('reports the memory of a Pod', () => {
    const sum = (pod: Pod, of: (pid: number) => number) => podPids(recordOf(pod.metadata.uid as string)).reduce((total, pid) => total + of(pid), 0);
    const rss = Object.fromEntries(Object.entries(created).map(([name, pod]) => [name, sum(pod, processRssKiB)]));
    const pss = Object.fromEntries(Object.entries(created).map(([name, pod]) => [name, sum(pod, processPssKiB)]));
    for (const kib of Object.values(rss)) expect(kib).toBeGreaterThan(0);
    for (const name of Object.keys(rss)) expect(pss[name]).toBeLessThanOrEqual(rss[name]!);
    console.log(`memory per Pod (KiB, all processes of its containers): RSS ${JSON.stringify(rss)} PSS ${JSON.stringify(pss)}`);
  });

  it('leaves running Pods alone across a kubelet SIGKILL and restart', async () => {
    const uid = created.sleeper!.metadata.uid as string;
    const before = recordOf(uid).containers[0]!;
    await killKubelet('SIGKILL');
    expect(isSameProcess(before.pid!, before.pidStartTicks)).toBe(true);
    kubelet = startKubeletProcess();
    await waitFor('kubelet back', async () => (fs.readFileSync(path.join(tmp, 'kubelet.log'), 'utf8').split('kubelet started').length > 2 ? true : undefined));
    await sleep(1500);
    const after = recordOf(uid).containers[0]!;
    expect(after.pid).toBe(before.pid);
    expect(isSameProcess(before.pid!, before.pidStartTicks)).toBe(true);
    const pod = await getPod('sleeper');
    expect(pod.status?.podIP).toBe(created.sleeper!.status!.podIP);
    expect(pod.status?.containerStatuses?.[0]).toMatchObject({ restartCount: 0, ready: true });
  });

  it('stops a deleted Pod, releases its IP and removes its namespace', async () => {
    const pod = created.sleeper!;
    const rec = recordOf(pod.metadata.uid as string);
    const pids = podPids(rec);
    expect(pids.length).toBeGreaterThan(0);
    await client.delete(PODS, 'default', 'sleeper', { gracePeriodSeconds: 5 });
    await waitFor('sleeper gone', async () => {
      try {
        await getPod('sleeper');
        return undefined;
      } catch (e) {
        return (e as { code?: number }).code === 404 ? true : undefined;
      }
    });
    // gone, or a zombie its new parent (init: the kubelet that started it was restarted) has not reaped yet
    for (const pid of pids) expect(isSameProcess(pid, undefined)).toBe(false);
    expect(fs.existsSync(path.join(cniDirs(stateDir, nodeName).dataDir, 'cbr0', pod.status!.podIP!))).toBe(false);
    expect(netnsExists(rec.netns)).toBe(false);
    expect(fs.existsSync(etcNetnsDir(rec.netns))).toBe(false);
  });
});
