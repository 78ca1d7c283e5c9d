// Lab 08's faults that live on a node rather than in the API: each breaks the node the client Pod
// runs on, the way the same mistake breaks a real node, and judges a fix by what the student can
// see from there (the FDB, link MTUs, the component's state, requests that get answered).

import type { Node, Pod, Service } from '../api/types.js';
import { backendMTU, VXLAN_DEVICE } from '../cni/flannel/desired.js';
import { leaseOf, type Lease } from '../cni/flannel/lease.js';
import { NODE_UPLINK, underlayBridgeName } from '../cni/topology/names.js';
import type { LabEnv } from './env.js';
import { clientPod, WEB, type Fault } from './fault.js';
import { parseFdb, unreachablePeers } from './fdb.js';

const TIMEOUT_MS = 10_000;
/** What mtu-mismatch sets the node's eth0 to: 100 below the underlay's 1500. */
const LOWERED_MTU = 1400;
/** IPv4 20 + ICMP 8: `ping -s` counts only the payload. */
const PING_HEADERS = 28;
/** Requests fixed() sends through the ClusterIP: with three endpoints, every one is hit but rarely. */
const REQUESTS = 6;

const restartedAt = (): string => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

async function run(env: LabEnv, node: string, argv: string[]): Promise<string> {
  const r = await env.runOnNode(node, argv, TIMEOUT_MS);
  if (r.code !== 0) throw new Error(`${argv.join(' ')} on ${node}: ${r.stderr.trim() || `exit code ${r.code}`}`);
  return r.stdout;
}

const leases = async (env: LabEnv): Promise<Lease[]> => (await env.nodes()).map((n: Node) => leaseOf(n)).filter((l): l is Lease => l !== undefined);

/** The MTU of one link as `ip -j link show` reports it, on a node or (node undefined) on the host. */
async function linkMTU(env: LabEnv, node: string | undefined, link: string): Promise<number | undefined> {
  const argv = ['ip', '-j', 'link', 'show', link];
  const r = node === undefined ? await env.runOnHost(argv, TIMEOUT_MS) : await env.runOnNode(node, argv, TIMEOUT_MS);
  if (r.code !== 0) return undefined;
  return (JSON.parse(r.stdout) as { mtu?: number }[])[0]?.mtu;
}

/** Every web Pod answers a ping from the client that fills the Pod MTU exactly, with DF set. */
async function fullSizePingsAnswered(env: LabEnv, podMTU: number): Promise<boolean> {
  const client = await clientPod(env);
  const targets = (await env.pods(`app=${WEB}`)).flatMap((p: Pod) => (p.status?.podIP ? [p.status.podIP] : []));
  if (targets.length === 0) return false;
  const answered = await Promise.all(
    targets.map(async (ip) => (await env.runInPod(client, ['ping', '-c', '2', '-i', '0.2', '-W', '1', '-M', 'do', '-s', String(podMTU - PING_HEADERS), ip], TIMEOUT_MS)).code === 0),
  );
  return answered.every(Boolean);
}

/** `REQUESTS` requests from the client to web's ClusterIP all get a 200. */
async function clientRequestsAnswered(env: LabEnv): Promise<boolean> {
  const client = await clientPod(env);
  const ip = ((await env.getObject('services', WEB)) as Service).spec.clusterIP;
  if (!ip || ip === 'None') return false;
  const loop = `for i in $(seq ${REQUESTS}); do curl -s -o /dev/null --max-time 1 -w "%{http_code}\\n" http://${ip}/hostname; done`;
  const r = await env.runInPod(client, ['sh', '-c', loop], TIMEOUT_MS + REQUESTS * 1000);
  return r.stdout.split('\n').filter((l) => l.trim() === '200').length === REQUESTS;
}

const missingFdbEntry: Fault = {
  name: 'missing-fdb-entry',
  explain: (r) =>
    `${VXLAN_DEVICE} on ${r.node} had no FDB entry for the VTEP MAC of ${r.peer}: the neighbour entry said which MAC stands for ${r.peer}'s Pod subnet, ` +
    `but nothing said which underlay IP to tunnel that MAC to, so the frames were dropped and the client's requests to web's Pod on ${r.peer} went unanswered. ` +
    "flannel's vxlan backend writes these entries when a lease appears (or at its start) and never checks them again",
  inject: async (env) => {
    if (env.config.backend !== 'vxlan') throw new Error(`missing-fdb-entry needs the vxlan backend; this cluster runs ${env.config.backend}`);
    const node = (await clientPod(env)).spec.nodeName as string;
    const webNodes = new Set((await env.pods(`app=${WEB}`)).map((p) => p.spec.nodeName));
    const peer = (await leases(env)).filter((l) => l.node !== node && webNodes.has(l.node) && l.vtepMAC !== undefined).sort((a, b) => a.node.localeCompare(b.node))[0];
    if (!peer) throw new Error(`no other node with a web Pod has a vxlan lease, so ${node} has no FDB entry worth deleting`);
    await run(env, node, ['bridge', 'fdb', 'del', peer.vtepMAC as string, 'dev', VXLAN_DEVICE, 'dst', peer.publicIP]);
    return { name: 'missing-fdb-entry', node, peer: peer.node };
  },
  fixed: async (env, record) => {
    const node = record.node as string;
    const fdb = parseFdb(await run(env, node, ['bridge', 'fdb', 'show', 'dev', VXLAN_DEVICE]));
    return unreachablePeers(fdb, await leases(env), node).length === 0;
  },
};

const mtuMismatch: Fault = {
  name: 'mtu-mismatch',
  explain: (r) =>
    `${NODE_UPLINK} of ${r.node} had MTU ${LOWERED_MTU} while the rest of the underlay (the host's bridge, the other nodes) used 1500: ` +
    `full-size VXLAN packets from the other nodes (a 1450-byte Pod packet plus 50 bytes of encapsulation) were bigger than ${r.node}'s ${NODE_UPLINK} accepts ` +
    'and were dropped without an ICMP error, so small packets got through and full-size ones from Pods on other nodes never arrived',
  inject: async (env) => {
    const node = (await clientPod(env)).spec.nodeName as string;
    await run(env, node, ['ip', 'link', 'set', NODE_UPLINK, 'mtu', String(LOWERED_MTU)]);
    return { name: 'mtu-mismatch', node };
  },
  fixed: async (env, record) => {
    const underlay = await linkMTU(env, undefined, underlayBridgeName(env.cluster));
    const uplink = await linkMTU(env, record.node as string, NODE_UPLINK);
    if (underlay === undefined || uplink !== underlay) return false;
    return fullSizePingsAnswered(env, backendMTU(env.config.backend, underlay));
  },
};

const kubeProxyStopped: Fault = {
  name: 'kube-proxy-stopped',
  explain: (r) =>
    `kube-proxy was stopped on ${r.node} (as systemctl stop kube-proxy), then web was rolled (kubectl rollout restart): the node kept its old rules, ` +
    "which sent the client's requests to the old Pods' IPs, gone since. Started again, kube-proxy rewrote them from the current EndpointSlices",
  inject: async (env) => {
    const node = (await clientPod(env)).spec.nodeName as string;
    await env.stopComponent(node, 'kube-proxy');
    await env.patch('deployments', 'default', WEB, { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': restartedAt() } } } } });
    return { name: 'kube-proxy-stopped', node };
  },
  fixed: async (env, record) => {
    const states = await env.nodeComponents(record.node as string);
    return states.some((s) => s.name === 'kube-proxy' && s.active) && clientRequestsAnswered(env);
  },
};

export const NODE_FAULTS: readonly Fault[] = [missingFdbEntry, mtuMismatch, kubeProxyStopped];
