// kube-controller-manager for kemu: one set of shared informers, every controller on top of it,
// started once the caches hold their first lists (so no controller acts on an empty cache) and
// stopped together.

import type { Client } from '../api/client.js';
import { underlayGatewayIP, type ClusterConfig } from '../api/cluster.js';
import type { Controller } from './controller.js';
import { DeploymentController } from './deployment.js';
import { EndpointSliceController } from './endpointslice.js';
import { GarbageCollector } from './garbage-collector.js';
import { SharedInformers } from './informers.js';
import { KubernetesEndpointsReconciler } from './kubernetes-endpoints.js';
import { NamespaceController } from './namespace.js';
import { ReplicaSetController } from './replicaset.js';
import { Scheduler } from './scheduler.js';
import { startNodeIpamController } from './node-ipam.js';
import { startServiceLoadBalancerController } from './service-lb.js';

export interface ControllerManagerOptions {
  /** Full resync period of every controller (default 30 s). */
  resyncMs?: number;
  /** The API server address the `kubernetes` Service's EndpointSlice points at (default: the underlay bridge address, where the node network reaches the host). */
  apiServerAddress?: string;
}

export interface RunningControllers {
  stop(): Promise<void>;
}

export async function startControllers(client: Client, config: ClusterConfig, opts: ControllerManagerOptions = {}): Promise<RunningControllers> {
  const informers = new SharedInformers(client);
  const loopOpts = { resyncMs: opts.resyncMs };
  const controllers: Controller[] = [
    new ReplicaSetController(client, informers, loopOpts),
    new DeploymentController(client, informers, loopOpts),
    new Scheduler(client, informers, loopOpts),
    new EndpointSliceController(client, informers, loopOpts),
    new NamespaceController(client, informers, loopOpts),
    new GarbageCollector(client, informers, loopOpts),
    new KubernetesEndpointsReconciler(client, informers, opts.apiServerAddress ?? underlayGatewayIP(config), loopOpts),
  ];
  await informers.start();
  for (const c of controllers) c.start();
  // Subnet leases: each Node's podCIDR (kube-controller-manager's node IPAM, --allocate-node-cidrs).
  const nodeIpam = await startNodeIpamController(client, config);
  const serviceLB = await startServiceLoadBalancerController(client);
  return {
    async stop() {
      await serviceLB.stop();
      await nodeIpam.stop();
      await Promise.all(controllers.map((c) => c.stop()));
      informers.stop();
    },
  };
}
