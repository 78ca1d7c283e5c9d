// The Service load balancer, as k3s's ServiceLB (klipper-lb) gives a cluster without a cloud: a
// Service of type LoadBalancer is served on the nodes themselves, and its
// status.loadBalancer.ingress lists the Ready nodes' InternalIPs. kube-proxy then programs those
// addresses like any load-balancer IP (KUBE-EXT chains, or the nftables/IPVS equivalents), so
// `curl <node IP>:<port>` reaches the Service, as on k3s. Other types get their status cleared.

import type { Client } from '../api/client.js';
import { Informer } from '../api/informer.js';
import { RESOURCES, type ResourceType } from '../api/resources.js';
import type { Node, Service } from '../api/types.js';
import { ControllerLoop, keyOf, splitKey } from './controller.js';

const SERVICES = RESOURCES.find((r) => r.kind === 'Service') as ResourceType;
const NODES = RESOURCES.find((r) => r.kind === 'Node') as ResourceType;

type LoadBalancerIngress = { ip?: string; hostname?: string; ipMode?: string };

function isReady(node: Node): boolean {
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** The ingress list a Service should show: Ready nodes' InternalIPs for LoadBalancer, else none. */
export function desiredLoadBalancerIngress(svc: Service, nodes: readonly Node[]): LoadBalancerIngress[] {
  if (svc.spec.type !== 'LoadBalancer') return [];
  const ips = nodes
    .filter((n) => isReady(n) && !n.metadata.deletionTimestamp)
    .map((n) => n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address)
    .filter((ip): ip is string => ip !== undefined)
    .sort();
  return ips.map((ip) => ({ ip, ipMode: 'VIP' }));
}

function sameIngress(a: readonly LoadBalancerIngress[], b: readonly LoadBalancerIngress[]): boolean {
  return a.length === b.length && a.every((x, i) => x.ip === b[i]?.ip && x.hostname === b[i]?.hostname && x.ipMode === b[i]?.ipMode);
}

export async function startServiceLoadBalancerController(
  client: Client,
  log: (message: string) => void = (m) => console.error(`service-lb: ${m}`),
): Promise<{ stop(): Promise<void> }> {
  const services = new Informer<Service>(client, SERVICES);
  const nodes = new Informer<Node>(client, NODES);

  const reconcile = async (key: string): Promise<void> => {
    const { namespace, name } = splitKey(key);
    const svc = services.get(namespace, name);
    if (svc === undefined) return;
    const want = desiredLoadBalancerIngress(svc, nodes.list());
    const have = (svc.status?.loadBalancer?.ingress ?? []) as LoadBalancerIngress[];
    if (sameIngress(have, want)) return;
    // null removes the list in a merge patch
    await client.patchStatus(SERVICES, namespace, name, { status: { loadBalancer: { ingress: want.length ? want : null } } });
  };

  const loop = new ControllerLoop({
    name: 'service-lb',
    reconcile,
    listKeys: () => services.list().map(keyOf),
    onError: (_name, key, err) => log(`service ${key}: ${err instanceof Error ? err.message : String(err)}`),
  });
  services.addHandler({ onAdd: (s) => loop.enqueue(keyOf(s)), onUpdate: (_o, s) => loop.enqueue(keyOf(s)) });
  // A node joining, leaving or changing readiness changes every LoadBalancer Service's addresses.
  const requeueAll = (): void => {
    for (const s of services.list()) if (s.spec.type === 'LoadBalancer') loop.enqueue(keyOf(s));
  };
  nodes.addHandler({ onAdd: requeueAll, onUpdate: requeueAll, onDelete: requeueAll });
  await Promise.all([services.start(), nodes.start()]);
  loop.start();
  return {
    async stop() {
      await loop.stop();
      services.stop();
      nodes.stop();
    },
  };
}
