// The IPVS-mode scenario that test/e2e/ipvs.test.ts runs inside ../shared/tools/vmkernel (a kernel
// with ip_vs and dummy). A node namespace with a pod bridge and two server pods, a client pod on a
// routed veth (so replies pass the node's IPVS), an in-process API server, and startKubeProxy in
// ipvs mode driving the node through its netns option. It prints one line "IPVS-RESULT <json>" with
// what it observed; the test asserts on it. Not a test file itself: run as root on such a kernel.

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultClusterConfig } from '../../src/api/cluster.js';
import { HttpClient } from '../../src/api/http-client.js';
import { RESOURCES, type ResourceType } from '../../src/api/resources.js';
import { startApiServer, type RunningApiServer } from '../../src/api/server/apiserver.js';
import type { EndpointSlice, Node, Service } from '../../src/api/types.js';
import { startKubeProxy, type RunningKubeProxy } from '../../src/proxy/run.js';
import { exec } from '../../src/sys/exec.js';
import { ipBatch } from '../../src/sys/iproute.js';
import { parseIpvsadmList } from '../../src/sys/ipvs.js';
import { argvIn, createNetns, deleteNetns, execIn } from '../../src/sys/netns.js';

export interface IpvsScenarioResult {
  clusterIP: string;
  /** `ipvsadm -Ln` in the node once both endpoints were programmed. */
  ipvsadmBefore: string;
  dummyAddresses: string;
  ipsetSave: string;
  iptablesSave: string;
  /** Body of each of the curls to the ClusterIP from the client pod ("" on failure). */
  answersBefore: string[];
  /** `ipvsadm -Ln` after the second endpoint left the EndpointSlice. */
  ipvsadmAfter: string;
  answersAfter: string[];
  /** Curl exit code to a Service without endpoints, and how long it took. */
  emptyServiceCode: number;
  emptyServiceMs: number;
}

const kind = (k: string) => RESOURCES.find((r) => r.kind === k) as ResourceType;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function eventually(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > until) return false;
    await sleep(200);
  }
}

const t0 = Date.now();
const step = (what: string): void => console.error(`ipvs scenario: ${what} after ${Date.now() - t0} ms`);

async function main(): Promise<void> {
  await exec('modprobe', ['-a', 'ip_vs', 'ip_vs_rr', 'dummy'], { allowFailure: true });
  const prefix = `kemut-ipvs-${randomBytes(3).toString('hex')}`;
  const nodeNs = `${prefix}-node`;
  const clientNs = `${prefix}-c`;
  const servers = [
    { ns: `${prefix}-p1`, ip: '10.244.1.2', name: 'pod-one' },
    { ns: `${prefix}-p2`, ip: '10.244.1.3', name: 'pod-two' },
  ];
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kemu-ipvs-'));
  const children: ChildProcess[] = [];
  let api: RunningApiServer | undefined;
  let client: HttpClient | undefined;
  let proxy: RunningKubeProxy | undefined;
  try {
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
    for (const [ns, ip, gw] of [[clientNs, '10.244.9.2/24', '10.244.9.1'], ...servers.map((s) => [s.ns, `${s.ip}/24`, '10.244.1.1'])] as const) {
      await ipBatch(ns, [
        { args: ['link', 'set', 'lo', 'up'] },
        { args: ['addr', 'add', ip, 'dev', 'eth0'] },
        { args: ['link', 'set', 'eth0', 'up'] },
        { args: ['route', 'add', 'default', 'via', gw] },
      ]);
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
    const web = await client.create<Service>(kind('Service'), 'default', service('web'));
    const empty = await client.create<Service>(kind('Service'), 'default', service('empty'));
    const clusterIP = web.spec?.clusterIP as string;
    const slice = (ips: string[]): EndpointSlice => ({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'web-abc', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4',
      endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true, serving: true, terminating: false }, nodeName: nodeNs })),
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    });
    const created = await client.create<EndpointSlice>(kind('EndpointSlice'), 'default', slice(servers.map((s) => s.ip)));
    // The emulated guest is slow: let the pod servers come up before kube-proxy starts its own helpers.
    for (const s of servers) {
      const up = await eventually(async () => (await execIn(s.ns, 'curl', ['-sS', '--max-time', '2', 'http://127.0.0.1:8080'], { allowFailure: true })).stdout === s.name, 60_000);
      if (!up) throw new Error(`${s.name} did not start`);
    }
    step('pods up');
    proxy = await startKubeProxy({ client, nodeName: nodeNs, config, mode: 'ipvs', netns: nodeNs, minSyncPeriodMs: 200, log: (m) => console.error(m) });

    const ipvsadm = async () => (await execIn(nodeNs, 'ipvsadm', ['-Ln'])).stdout;
    const webServer = async () => parseIpvsadmList(await ipvsadm()).find((vs) => vs.address === clusterIP && vs.port === 80);
    step('kube-proxy started');
    if (!(await eventually(async () => (await webServer())?.realServers.length === 2, 60_000))) throw new Error(`not programmed:\n${await ipvsadm()}`);
    step('programmed');

    const curlMany = async (n: number): Promise<string[]> => {
      const out: string[] = [];
      for (let i = 0; i < n; i++) out.push((await execIn(clientNs, 'curl', ['-sS', '--max-time', '3', `http://${clusterIP}/`], { allowFailure: true })).stdout);
      return out;
    };
    const result: Partial<IpvsScenarioResult> = { clusterIP, ipvsadmBefore: await ipvsadm() };
    result.dummyAddresses = (await execIn(nodeNs, 'ip', ['-o', 'addr', 'show', 'dev', 'kube-ipvs0'])).stdout;
    result.ipsetSave = (await execIn(nodeNs, 'ipset', ['save'])).stdout;
    result.iptablesSave = (await execIn(nodeNs, 'iptables-save', [])).stdout;
    result.answersBefore = await curlMany(8);
    step('curled');

    const started = Date.now();
    const r = await execIn(clientNs, 'curl', ['-sS', '--max-time', '5', `http://${empty.spec?.clusterIP}/`], { allowFailure: true });
    result.emptyServiceCode = r.code;
    result.emptyServiceMs = Date.now() - started;

    await client.update<EndpointSlice>(kind('EndpointSlice'), 'default', { ...slice([servers[0]!.ip]), metadata: { ...created.metadata } });
    // The removed real server either is gone or drains with weight 0 (its TIME_WAIT connections count).
    await eventually(async () => {
      const rs = (await webServer())?.realServers ?? [];
      return rs.every((x) => x.address === servers[0]!.ip || x.weight === 0);
    }, 30_000);
    step('endpoint removed');
    result.ipvsadmAfter = await ipvsadm();
    result.answersAfter = await curlMany(4);
    console.log(`IPVS-RESULT ${JSON.stringify(result)}`);
  } finally {
    for (const c of children) if (c.pid !== undefined && c.exitCode === null) process.kill(c.pid, 'SIGKILL');
    await proxy?.stop();
    client?.close();
    await api?.close();
    for (const ns of [clientNs, ...servers.map((s) => s.ns), nodeNs]) await deleteNetns(ns).catch(() => undefined);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e: Error) => {
    console.error(`ipvs scenario failed: ${e.stack ?? e.message}`);
    process.exit(1);
  },
);
