// flannel's two dataplane adapters on a real kernel: two throwaway namespaces built alike, one
// programmed through iproute2 from this process (the netns option), the other through rtnetlink by a
// child process running inside it (as the node agent does). After each step — from nothing, peers
// changing, the device drifting, a switch to host-gw — what `ip -j` / `bridge -j` show must be the
// same in both, and the rtnetlink observer must see what the iproute2 observer sees. Needs root.

import { execFile } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyDataplane, observeDataplane } from '../../src/cni/flannel/dataplane.js';
import { desiredDataplane, type DesiredDataplane, type SelfLease } from '../../src/cni/flannel/desired.js';
import { planDataplane, type DataplanePlan, type ObservedDataplane } from '../../src/cni/flannel/diff.js';
import type { Lease } from '../../src/cni/flannel/lease.js';
import { exec } from '../../src/sys/exec.js';
import { ipBatch } from '../../src/sys/iproute.js';
import { createNetns, deleteNetns, execIn } from '../../src/sys/netns.js';

const isRoot = process.getuid?.() === 0;
const REPO = path.resolve(import.meta.dirname, '../..');
const TSX = path.join(REPO, 'node_modules/tsx/dist/loader.mjs');
const tag = randomBytes(2).toString('hex');
const viaIproute = `kemut-nl-${tag}-ip`;
const viaNetlink = `kemut-nl-${tag}-nl`;
const underlay = `172.30.${randomInt(1, 255)}`;
const CLUSTER = '10.244.0.0/16';

const self: SelfLease = { node: 'a', subnet: '10.244.0.0/24', publicIP: `${underlay}.2`, vtepMAC: '0a:00:00:00:00:0a', uplinkMTU: 1500 };
const peer = (n: number, mac: string): Lease => ({ node: `p${n}`, subnet: `10.244.${n}.0/24`, publicIP: `${underlay}.${n + 2}`, backendType: 'vxlan', vtepMAC: mac });

/** Runs in the namespace: observe, plan (unless given one), apply and observe again, all through rtnetlink. */
const CHILD = `
import { applyDataplane, observeDataplane } from ${JSON.stringify(path.join(REPO, 'src/cni/flannel/dataplane.ts'))};
import { planDataplane } from ${JSON.stringify(path.join(REPO, 'src/cni/flannel/diff.ts'))};
const { want, given, cluster, manageRoutes } = JSON.parse(process.argv[1]);
try {
  const plan = given ?? planDataplane(want, await observeDataplane(undefined), cluster, manageRoutes);
  await applyDataplane(undefined, plan);
  console.log(JSON.stringify({ plan, observed: await observeDataplane(undefined) }));
} catch (e) {
  console.log(JSON.stringify({ error: e.message }));
}
`;

interface ChildResult {
  plan?: DataplanePlan;
  observed?: ObservedDataplane;
  error?: string;
}

async function runChild(input: { want?: DesiredDataplane; given?: DataplanePlan; manageRoutes?: boolean }): Promise<ChildResult> {
  const args = JSON.stringify({ cluster: CLUSTER, manageRoutes: true, ...input });
  const argv = ['netns', 'exec', viaNetlink, process.execPath, '--import', TSX, '--input-type=module', '-e', CHILD, args];
  const { stdout } = await promisify(execFile)('ip', argv, { cwd: REPO, timeout: 30_000 });
  return JSON.parse(stdout) as ChildResult;
}

const syncThroughNetlink = (want: DesiredDataplane, manageRoutes = true) => runChild({ want, manageRoutes });

async function syncThroughIproute(want: DesiredDataplane, manageRoutes = true): Promise<DataplanePlan> {
  const plan = planDataplane(want, await observeDataplane(viaIproute), CLUSTER, manageRoutes);
  await applyDataplane(viaIproute, plan);
  return plan;
}

/**
 * What a student would read in the namespace, minus what differs between any two namespaces built
 * alike: ifindexes, the kernel's IPv6 link-local addresses (their DAD state is a matter of timing),
 * and the order of hash-table dumps (neighbours, FDB).
 */
async function kernelState(ns: string): Promise<unknown> {
  const json = async (cmd: string, args: string[]) => JSON.parse((await execIn(ns, cmd, ['-j', ...args])).stdout || '[]') as Record<string, unknown>[];
  const sorted = (rows: Record<string, unknown>[]) => rows.map((r) => JSON.stringify(r)).sort();
  const links = await json('ip', ['-d', 'addr', 'show']);
  return {
    links: links.map(({ ifindex: _i, link_index: _l, link_netnsid: _n, addr_info, ...rest }) => ({
      ...rest,
      addr_info: (addr_info as { family: string }[]).filter((a) => a.family === 'inet'),
    })),
    routes: await json('ip', ['route', 'show', 'table', 'main']),
    neighbours: sorted(await json('ip', ['neigh', 'show', 'nud', 'permanent'])),
    fdb: links.some((l) => l.ifname === 'flannel.1') ? sorted(await json('bridge', ['fdb', 'show', 'dev', 'flannel.1'])) : [],
  };
}

/** Both namespaces alike: eth0 (a veth) on the underlay, cni0 (another veth) with the node's Pod subnet. */
async function buildNode(ns: string): Promise<void> {
  await createNetns(ns);
  await ipBatch(ns, [
    { args: ['link', 'set', 'lo', 'up'] },
    { args: ['link', 'add', 'eth0', 'address', '02:00:00:00:00:01', 'type', 'veth', 'peer', 'name', 'uplink-peer', 'address', '02:00:00:00:00:02'] },
    { args: ['link', 'add', 'cni0', 'address', '02:00:00:00:00:03', 'type', 'veth', 'peer', 'name', 'cni0-peer', 'address', '02:00:00:00:00:04'] },
    { args: ['addr', 'add', `${self.publicIP}/24`, 'dev', 'eth0'] },
    { args: ['addr', 'add', '10.244.0.1/24', 'dev', 'cni0'] },
    ...['eth0', 'uplink-peer', 'cni0', 'cni0-peer'].map((dev) => ({ args: ['link', 'set', dev, 'up'] })),
  ]);
}

describe.skipIf(!isRoot)('flannel dataplane: rtnetlink in the namespace = iproute2 from outside', () => {
  beforeAll(async () => {
    await buildNode(viaIproute);
    await buildNode(viaNetlink);
  });

  afterAll(async () => {
    await deleteNetns(viaIproute);
    await deleteNetns(viaNetlink);
  });

  async function step(want: DesiredDataplane, manageRoutes = true): Promise<ChildResult> {
    const ipPlan = await syncThroughIproute(want, manageRoutes);
    const child = await syncThroughNetlink(want, manageRoutes);
    expect(child.error).toBeUndefined();
    // same starting state, same plan; then the same kernel state, read the same by both observers
    expect(child.plan).toEqual(ipPlan);
    expect(await kernelState(viaNetlink)).toEqual(await kernelState(viaIproute));
    expect(child.observed).toEqual(await observeDataplane(viaNetlink));
    return child;
  }

  it('from nothing: flannel.1, two peers, then nothing left to do', async () => {
    const want = desiredDataplane('vxlan', self, [peer(1, '0a:00:00:00:00:01'), peer(2, '0a:00:00:00:00:02')]);
    const first = await step(want);
    expect(first.plan?.ip.map((c) => c.op)).toEqual(['link-add', 'addr-add', 'link-up', 'neigh-replace', 'neigh-replace']);
    expect(first.observed?.device).toMatchObject({ kind: 'vxlan', vni: 1, local: self.publicIP, port: 8472, link: 'eth0', learning: false, mtu: 1450, up: true });
    // the kernel dumps neighbours and FDB entries in hash order
    const byMac = (a: { mac: string }, b: { mac: string }) => a.mac.localeCompare(b.mac);
    expect(first.observed?.fdb.sort(byMac)).toEqual(want.fdb);
    expect(first.observed?.neighbours.sort(byMac)).toEqual(want.neighbours);
    // the connected cni0 and eth0 routes are seen (and left alone) beside flannel's two
    expect(first.observed?.routes.filter((r) => r.dev === 'flannel.1')).toEqual(want.routes);
    expect(first.observed?.routes.map((r) => r.dev).sort()).toEqual(['cni0', 'eth0', 'flannel.1', 'flannel.1']);

    const again = await syncThroughNetlink(want);
    expect(again.plan).toEqual({ ip: [], bridge: [], ipLast: [] });
  });

  it('a peer leaving, another moving, the device drifting (MTU, MAC, address, down)', async () => {
    for (const ns of [viaIproute, viaNetlink]) {
      await ipBatch(ns, [
        { args: ['link', 'set', 'flannel.1', 'down'] },
        { args: ['link', 'set', 'flannel.1', 'mtu', '1400', 'address', '0a:ff:ff:ff:ff:ff'] },
        { args: ['addr', 'add', '10.244.0.9/32', 'dev', 'flannel.1'] },
      ]);
    }
    const want = desiredDataplane('vxlan', self, [{ ...peer(2, '0a:00:00:00:00:22'), publicIP: `${underlay}.99` }]);
    const result = await step(want);
    // taking flannel.1 down flushed its routes and neighbours: they come back with it, the leaver's do not
    expect(result.plan?.ip.map((c) => c.op)).toEqual(['link-mtu', 'link-mac', 'addr-del', 'link-up', 'neigh-replace']);
    expect(result.plan?.ipLast).toEqual([{ op: 'route-replace', route: want.routes[0] }]);
    expect(result.observed?.device).toMatchObject({ mtu: 1450, mac: self.vtepMAC, up: true, addresses: ['10.244.0.0/32'] });
    expect(result.observed?.fdb).toEqual([{ mac: '0a:00:00:00:00:22', dst: `${underlay}.99` }]);
  });

  it('an entry deleted by hand meanwhile is tolerated when flannel deletes it too', async () => {
    for (const ns of [viaIproute, viaNetlink]) await ipBatch(ns, [{ args: ['neigh', 'del', '10.244.2.0', 'dev', 'flannel.1'] }]);
    // planned from a view taken before the hand deletion: route, neighbour and FDB entry of the peer go
    const stale: ObservedDataplane = { ...(await observeDataplane(viaNetlink)), neighbours: [{ ip: '10.244.2.0', mac: '0a:00:00:00:00:22' }] };
    const plan = planDataplane(desiredDataplane('vxlan', self, []), stale, CLUSTER);
    expect(plan.ip.map((c) => c.op)).toEqual(['route-del', 'neigh-del']);
    const child = await runChild({ given: plan });
    expect(child.error).toBeUndefined();
    expect(child.observed).toMatchObject({ neighbours: [], fdb: [] });
    await syncThroughIproute(desiredDataplane('vxlan', self, []));
    expect(await kernelState(viaNetlink)).toEqual(await kernelState(viaIproute));
  });

  it('switching to host-gw deletes flannel.1 and routes via the peers on eth0', async () => {
    const hostGwPeer: Lease = { ...peer(3, ''), backendType: 'host-gw', vtepMAC: undefined };
    const result = await step(desiredDataplane('host-gw', self, [hostGwPeer]));
    expect(result.observed?.device).toBeUndefined();
    expect(result.observed?.routes).toContainEqual({ dst: '10.244.3.0/24', gateway: `${underlay}.5`, dev: 'eth0', onlink: false });
  });

  it('a refusal names the change and the kernel error, and the other changes of the phase still happen', async () => {
    const want = desiredDataplane('host-gw', self, [{ ...peer(4, ''), backendType: 'host-gw', vtepMAC: undefined }]);
    // a gateway outside every connected network: the kernel refuses the route (no onlink)
    want.routes.push({ dst: '10.244.5.0/24', gateway: '192.0.2.1', dev: 'eth0', onlink: false });
    const child = await syncThroughNetlink(want);
    expect(child.error).toMatch(/^rtnetlink route replace 10\.244\.5\.0\/24 via 192\.0\.2\.1 dev eth0: .*\(ENETUNREACH\)$/);
    const routes = await observeDataplane(viaNetlink);
    expect(routes.routes).toContainEqual({ dst: '10.244.4.0/24', gateway: `${underlay}.6`, dev: 'eth0', onlink: false });
  });
});
