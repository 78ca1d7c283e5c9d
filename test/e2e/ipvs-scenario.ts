// The IPVS-mode scenario that test/e2e/ipvs.test.ts runs inside ../shared/tools/vmkernel (a kernel
// with ip_vs and dummy). A node namespace with a pod bridge and two server pods, a client pod on a
// routed veth (so replies pass the node's IPVS), an in-process API server, and startKubeProxy in
// ipvs mode driving the node through its netns option. It prints one line "IPVS-RESULT <json>" with
// what it observed; the test asserts on it. Not a test file itself: run as root on such a kernel.

import type { ChildProcess } from 'node:child_process';
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
import { parseIpvsadmList } from '../../src/sys/ipvs.js';
import { deleteNetns, execIn } from '../../src/sys/netns.js';
import { until } from '../unit/support/api-fixture.js';
import { httpService, nodeObject, proxyNode, startServers, webSlice, wireProxyNode } from './support/proxy-node.js';

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

const t0 = Date.now();
const step = (what: string): void => console.error(`ipvs scenario: ${what} after ${Date.now() - t0} ms`);

async function main(): Promise<void> {
  await exec('modprobe', ['-a', 'ip_vs', 'ip_vs_rr', 'dummy'], { allowFailure: true });
  const prefix = `kemut-ipvs-${randomBytes(3).toString('hex')}`;
  const node = proxyNode(prefix);
  const { nodeNs, clientNs, servers } = node;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kemu-ipvs-'));
  let children: ChildProcess[] = [];
  let api: RunningApiServer | undefined;
  let client: HttpClient | undefined;
  let proxy: RunningKubeProxy | undefined;
  try {
    await wireProxyNode(node);
    children = startServers(servers);

    const config = defaultClusterConfig(prefix);
    api = await startApiServer({ storeDir: path.join(tmp, 'store'), socketPath: path.join(tmp, 'api.sock'), config });
    client = new HttpClient({ socketPath: path.join(tmp, 'api.sock') });
    await client.create<Node>(kind('Node'), undefined, nodeObject(nodeNs));
    const web = await client.create<Service>(kind('Service'), 'default', httpService('web'));
    const empty = await client.create<Service>(kind('Service'), 'default', httpService('empty'));
    const clusterIP = web.spec?.clusterIP as string;
    const created = await client.create<EndpointSlice>(kind('EndpointSlice'), 'default', webSlice(nodeNs, servers.map((s) => s.ip)));
    // The emulated guest is slow: let the pod servers come up before kube-proxy starts its own helpers.
    for (const s of servers) {
      await until(`${s.name} to start`, async () => (await execIn(s.ns, 'curl', ['-sS', '--max-time', '2', 'http://127.0.0.1:8080'], { allowFailure: true })).stdout === s.name, 60_000, 200);
    }
    step('pods up');
    proxy = await startKubeProxy({ client, nodeName: nodeNs, config, mode: 'ipvs', netns: nodeNs, minSyncPeriodMs: 200, log: (m) => console.error(m) });

    const ipvsadm = async () => (await execIn(nodeNs, 'ipvsadm', ['-Ln'])).stdout;
    const webServer = async () => parseIpvsadmList(await ipvsadm()).find((vs) => vs.address === clusterIP && vs.port === 80);
    step('kube-proxy started');
    await until('both real servers', async () => (await webServer())?.realServers.length === 2, 60_000, 200).catch(async () => {
      throw new Error(`not programmed:\n${await ipvsadm()}`);
    });
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

    await client.update<EndpointSlice>(kind('EndpointSlice'), 'default', { ...webSlice(nodeNs, [servers[0]!.ip]), metadata: { ...created.metadata } });
    // The removed real server either is gone or drains with weight 0 (its TIME_WAIT connections count).
    await until('the removed real server to go or drain', async () => {
      const rs = (await webServer())?.realServers ?? [];
      return rs.every((x) => x.address === servers[0]!.ip || x.weight === 0);
    }, 30_000, 200).catch(() => undefined); // the test judges ipvsadmAfter
    step('endpoint removed');
    result.ipvsadmAfter = await ipvsadm();
    result.answersAfter = await curlMany(4);
    console.log(`IPVS-RESULT ${JSON.stringify(result)}`);
  } finally {
    for (const c of children) if (c.pid !== undefined && c.exitCode === null) process.kill(c.pid, 'SIGKILL');
    await proxy?.stop();
    client?.close();
    await api?.close();
    for (const ns of node.namespaces) await deleteNetns(ns).catch(() => undefined);
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
