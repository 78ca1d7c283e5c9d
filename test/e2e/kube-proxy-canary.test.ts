// The iptables canary on a real kernel: kube-proxy (iptables mode) in a scratch node namespace
// creates KUBE-PROXY-CANARY in mangle, nat and filter; after someone flushes and deletes every
// chain of those tables (what a firewall reload does), the canary poll notices and a full resync
// puts the Service rules and the jumps from the built-in chains back. The poll interval is cut
// to 500 ms so this takes seconds, not the upstream 30 s. Root.

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
import { createNetns, deleteNetns, execIn, listNetns } from '../../src/sys/netns.js';

const kind = (k: string) => RESOURCES.find((r) => r.kind === k) as ResourceType;
const isRoot = process.getuid?.() === 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const CANARY_INTERVAL_MS = 500;

async function eventually(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  for (const end = Date.now() + timeoutMs; Date.now() < end; await sleep(100)) if (await check()) return true;
  return check();
}

describe.runIf(isRoot)('kube-proxy iptables canary in a node namespace', () => {
  const nodeNs = `kemut-kpc-${randomBytes(2).toString('hex')}-node`;
  let tmp: string;
  let api: RunningApiServer | undefined;
  let client: HttpClient | undefined;
  let proxy: RunningKubeProxy | undefined;
  let clusterIP: string;

  const save = async (): Promise<string> => (await execIn(nodeNs, 'iptables-save', [])).stdout;
  const programmed = async (): Promise<boolean> => {
    const rules = await save();
    return rules.includes(`-d ${clusterIP}/32 -p tcp -m comment --comment "default/web:http cluster IP"`) && rules.includes('-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES');
  };
  const canaries = async (): Promise<string[]> =>
    (await save())
      .split('\n')
      .filter((l) => l.startsWith(':KUBE-PROXY-CANARY '))
      .map((l) => l.split(' ')[0]!);

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kemu-kpc-'));
    await createNetns(nodeNs);
    await execIn(nodeNs, 'ip', ['link', 'set', 'lo', 'up']);
    const config = defaultClusterConfig(nodeNs);
    api = await startApiServer({ storeDir: path.join(tmp, 'store'), socketPath: path.join(tmp, 'api.sock'), config });
    client = new HttpClient({ socketPath: path.join(tmp, 'api.sock') });
    await client.create<Node>(kind('Node'), undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: nodeNs }, status: { addresses: [{ type: 'InternalIP', address: '10.244.1.1' }] } });
    const web = await client.create<Service>(kind('Service'), 'default', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'default' },
      spec: { ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] },
    });
    clusterIP = web.spec!.clusterIP!;
    await client.create<EndpointSlice>(kind('EndpointSlice'), 'default', {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'web-abc', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['10.244.1.2'], conditions: { ready: true, serving: true, terminating: false }, nodeName: nodeNs }],
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    });
    proxy = await startKubeProxy({
      client,
      nodeName: nodeNs,
      config,
      mode: 'iptables',
      netns: nodeNs,
      minSyncPeriodMs: 0,
      canaryIntervalMs: CANARY_INTERVAL_MS,
      log: () => {},
    });
  }, 60_000);

  afterAll(async () => {
    await proxy?.stop();
    client?.close();
    await api?.close();
    await deleteNetns(nodeNs);
    fs.rmSync(tmp, { recursive: true, force: true });
    expect(listNetns()).not.toContain(nodeNs);
  });

  it('creates the canary chain in mangle, nat and filter, outside the synced rules', async () => {
    expect(await eventually(programmed, 15_000)).toBe(true);
    expect(await eventually(async () => (await canaries()).length === 3, 5000)).toBe(true);
    const rules = await save();
    for (const table of ['mangle', 'nat', 'filter']) {
      const section = rules.split(`*${table}\n`)[1]!.split('COMMIT')[0]!;
      expect(section, table).toContain(':KUBE-PROXY-CANARY ');
      expect(section, table).not.toMatch(/-A KUBE-PROXY-CANARY|-j KUBE-PROXY-CANARY/);
    }
  });

  it('puts every rule back after the tables are flushed', async () => {
    expect(await programmed()).toBe(true);
    for (const table of ['mangle', 'nat', 'filter']) {
      await execIn(nodeNs, 'iptables', ['-w', '5', '-t', table, '-F']);
      await execIn(nodeNs, 'iptables', ['-w', '5', '-t', table, '-X']);
    }
    expect(await programmed()).toBe(false);
    expect(await canaries()).toEqual([]);
    // One poll interval to notice, then a full sync (a few iptables calls and one restore).
    expect(await eventually(programmed, CANARY_INTERVAL_MS + 10_000)).toBe(true);
    expect(await eventually(async () => (await canaries()).length === 3, 5000)).toBe(true);
  });
});
