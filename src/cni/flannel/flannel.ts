// The flannel component of a node: waits for its Node's podCIDR, advertises the node's lease in
// flannel.alpha.coreos.com/ annotations, keeps the backend's kernel state in the node's namespace
// equal to what the other nodes' leases call for, writes subnet.env, loads the FLANNEL-* iptables
// chains and reports NetworkUnavailable=False. Every Node change that touches a lease, and the
// start, recompute everything and apply only the difference, so restarting flannel on an unchanged
// node changes nothing. What is checked periodically (every resyncMs) follows the real flanneld:
// its iptables chains (flanneld's --iptables-resync) and, with host-gw, the routes (RouteNetwork's
// 10 s route check). The vxlan backend, like the real
// one, programs neighbours, FDB entries and routes on lease events only: an entry deleted by hand
// stays deleted until a lease changes or flannel restarts (lab 08's missing-fdb-entry fault).
// The underlay's address and MTU are read once, at start, as flanneld reads its external interface:
// a later MTU change on eth0 is not carried over to flannel.1 or subnet.env until a restart.
//
// With opts.netns every command runs in that namespace, so one process (a test) can drive several
// nodes; the node agent runs inside its node's namespace and leaves it unset.

import type { ClusterConfig } from '../../api/cluster.js';
import type { Client } from '../../api/client.js';
import { isApiError } from '../../api/errors.js';
import { Informer } from '../../api/informer.js';
import { RESOURCES, type ResourceType } from '../../api/resources.js';
import type { Node, NodeCondition } from '../../api/types.js';
import { iptablesRestore, iptablesSave } from '../../sys/iptables.js';
import { showAddrs } from '../../sys/iproute.js';
import type { Netns } from '../../sys/netns.js';
import { ControllerLoop, rfc3339 } from '../../controllers/controller.js';
import { contains, networkOf, parsePrefix } from '../plugin/ipv4.js';
import { NODE_UPLINK } from '../topology/names.js';
import { applyDataplane, observeDataplane } from './dataplane.js';
import { backendMTU, desiredDataplane } from './desired.js';
import { isEmptyPlan, planDataplane } from './diff.js';
import { flannelRules, rulesRestoreText } from './iptables-rules.js';
import { ANNOTATIONS, ANNOTATION_PREFIX, derivedVtepMAC, leaseOf, ownAnnotations, vtepMACOf, type Backend, type Lease } from './lease.js';
import { subnetEnvPath, subnetEnvText, writeSubnetEnv } from './subnet-env.js';

export interface FlannelOptions {
  client: Client;
  nodeName: string;
  config: ClusterConfig;
  backend: Backend;
  stateDir: string;
  netns?: Netns;
  /** Period of the iptables check and (host-gw) the route check; default 10 s, as flannel's route check. */
  resyncMs?: number;
  log?: (message: string) => void;
}

export interface RunningFlannel {
  stop(): Promise<void>;
}

const NODES = RESOURCES.find((r) => r.kind === 'Node') as ResourceType;
const DEFAULT_RESYNC_MS = 10_000;
/** The work-queue keys: everything (events, start) and the periodic check. */
const SYNC_ALL = 'all';
const SYNC_PERIODIC = 'periodic';

/** The parts of a Node flannel reacts to; other changes (kubelet heartbeats) trigger nothing. */
function flannelView(node: Node | undefined): string {
  if (node === undefined) return '';
  const annotations = Object.entries(node.metadata.annotations ?? {}).filter(([k]) => k.startsWith(ANNOTATION_PREFIX));
  const condition = node.status?.conditions?.find((c) => c.type === 'NetworkUnavailable');
  return JSON.stringify([node.spec?.podCIDR, annotations, condition?.status, condition?.reason]);
}

interface Uplink {
  ip: string;
  mtu: number;
}

async function readUplink(ns: Netns | undefined): Promise<Uplink> {
  const link = (await showAddrs(ns)).find((l) => l.ifname === NODE_UPLINK);
  const ip = link?.addr_info.find((a) => a.family === 'inet')?.local;
  if (link === undefined || ip === undefined) throw new Error(`${NODE_UPLINK} has no IPv4 address${ns ? ` in netns ${ns}` : ''}`);
  return { ip, mtu: link.mtu };
}

export function networkUnavailableFalse(now: string, previous: NodeCondition | undefined): NodeCondition {
  const unchanged = previous?.status === 'False';
  return {
    type: 'NetworkUnavailable',
    status: 'False',
    reason: 'FlannelIsUp',
    message: 'Flannel is running on this node',
    lastHeartbeatTime: now,
    lastTransitionTime: unchanged && previous.lastTransitionTime ? previous.lastTransitionTime : now,
  };
}

/**
 * NetworkUnavailable=False on the Node, keeping the other conditions. A PUT with the resourceVersion
 * read: a concurrent kubelet heartbeat makes it 409 and it is retried at once with the fresh Node,
 * not after the work queue's back-off (which would hold the node NotReady at start-up).
 */
async function reportNetworkUp(client: Client, cached: Node): Promise<void> {
  let node = cached;
  for (let attempt = 0; ; attempt++) {
    const conditions = node.status?.conditions ?? [];
    const previous = conditions.find((c) => c.type === 'NetworkUnavailable');
    if (previous?.status === 'False' && previous.reason === 'FlannelIsUp') return;
    const next = [...conditions.filter((c) => c !== previous), networkUnavailableFalse(rfc3339(), previous)];
    try {
      await client.updateStatus(NODES, undefined, { ...node, status: { ...node.status, conditions: next } });
      return;
    } catch (e) {
      if (!isApiError(e) || e.code !== 409 || attempt >= 4) throw e;
    }
    node = await client.get<Node>(NODES, undefined, node.metadata.name as string);
  }
}

export async function startFlannel(opts: FlannelOptions): Promise<RunningFlannel> {
  const { client, nodeName, config, backend, netns } = opts;
  const log = opts.log ?? ((m: string) => console.error(`flannel[${nodeName}]: ${m}`));
  const cluster = parsePrefix(config.clusterCIDR);
  if (cluster === undefined) throw new Error(`clusterCIDR ${JSON.stringify(config.clusterCIDR)} is not an IPv4 CIDR`);

  const informer = new Informer<Node>(client, NODES);
  let lastWait = '';
  let uplinkAtStart: Uplink | undefined;
  let firstSyncLogged = false;

  const applyRules = async (podCIDR: string): Promise<void> => {
    const restore = rulesRestoreText(flannelRules(config.clusterCIDR, podCIDR), await iptablesSave(netns));
    if (restore !== undefined) await iptablesRestore(netns, restore, { noflush: true });
  };

  const reconcile = async (key: string): Promise<void> => {
    const self = informer.get(undefined, nodeName);
    const podCIDR = self?.spec?.podCIDR;
    const waiting = self === undefined ? `node "${nodeName}" not registered yet` : !podCIDR ? `node "${nodeName}" pod cidr not assigned` : '';
    if (waiting !== '') {
      if (waiting !== lastWait) log(`waiting: ${waiting}`);
      lastWait = waiting;
      return;
    }
    lastWait = '';
    const subnet = parsePrefix(podCIDR as string);
    if (subnet === undefined || subnet.length < cluster.length || !contains(cluster, networkOf(subnet))) {
      throw new Error(`node "${nodeName}": podCIDR ${podCIDR} is not inside the cluster CIDR ${config.clusterCIDR}`);
    }
    if (key === SYNC_PERIODIC && backend === 'vxlan') {
      await applyRules(podCIDR as string);
      return;
    }
    const node = self as Node;
    const syncStart = performance.now();
    uplinkAtStart ??= await readUplink(netns);
    const uplink = uplinkAtStart;
    const vtepMAC = vtepMACOf(node.metadata.annotations?.[ANNOTATIONS.backendData]) ?? derivedVtepMAC(config.name, nodeName);

    const leases = informer.list().map(leaseOf).filter((l): l is Lease => l !== undefined);
    const want = desiredDataplane(backend, { node: nodeName, subnet: podCIDR as string, publicIP: uplink.ip, vtepMAC, uplinkMTU: uplink.mtu }, leases);
    const dataplaneStart = performance.now();
    // backend none: routes are the student's; a flannel.1 left from another backend still goes
    const plan = planDataplane(want, await observeDataplane(netns), config.clusterCIDR, backend !== 'none');
    if (!isEmptyPlan(plan)) await applyDataplane(netns, plan);
    const dataplaneMs = performance.now() - dataplaneStart;

    await applyRules(podCIDR as string);

    const env = { network: config.clusterCIDR, subnet: podCIDR as string, mtu: backendMTU(backend, uplink.mtu), ipMasq: true };
    writeSubnetEnv(subnetEnvPath(opts.stateDir, nodeName), subnetEnvText(env));

    const annotations = ownAnnotations(backend, uplink.ip, backend === 'vxlan' ? vtepMAC : undefined);
    const current = node.metadata.annotations ?? {};
    if (Object.entries(annotations).some(([k, v]) => current[k] !== v)) {
      await client.patch(NODES, undefined, nodeName, { metadata: { annotations } });
    }

    await reportNetworkUp(client, node);
    if (!firstSyncLogged) {
      firstSyncLogged = true;
      const changes = plan.ip.length + plan.bridge.length + plan.ipLast.length;
      log(`first sync: ${changes} dataplane changes in ${dataplaneMs.toFixed(1)} ms, ${(performance.now() - syncStart).toFixed(1)} ms in all`);
    }
  };

  // One worker: reconciles never overlap; failures retry with back-off. The periodic resync enqueues
  // only the check; with host-gw (and none) that check is the whole sync.
  const loop = new ControllerLoop({
    name: `flannel[${nodeName}]`,
    reconcile,
    listKeys: () => [backend === 'vxlan' ? SYNC_PERIODIC : SYNC_ALL],
    resyncMs: opts.resyncMs ?? DEFAULT_RESYNC_MS,
    onError: (_name, _key, err) => log(`sync failed (will retry): ${err instanceof Error ? err.message : String(err)}`),
  });
  const trigger = () => loop.enqueue(SYNC_ALL);

  informer.addHandler({
    onAdd: trigger,
    onUpdate: (old, obj) => {
      if (flannelView(old) !== flannelView(obj)) trigger();
    },
    onDelete: trigger,
  });
  await informer.start();
  loop.start();
  trigger();

  return {
    async stop() {
      await loop.stop();
      informer.stop();
    },
  };
}

