// The add-ons `kemu up` installs, as kubeadm and k3s do: cluster DNS (CoreDNS behind kube-dns) and
// the ingress controller. Created if missing, left alone if present, so a second call changes
// nothing. `kemu up` applies them as soon as the API answers, like k3s's deploy controller: their
// Pods wait Pending for a Ready node and are bound the moment one is.

import { clusterPaths, type ClusterConfig } from '../../api/cluster.js';
import type { Client } from '../../api/client.js';
import { isApiError } from '../../api/errors.js';
import { resourceForKind } from '../../api/resources.js';
import type { Deployment, KubeObject } from '../../api/types.js';
import { dnsAddonObjects } from '../../dns/addon.js';
import { ingressAddonObjects } from './ingress.js';

export function addonObjects(config: ClusterConfig): KubeObject[] {
  const socket = clusterPaths(config.name).apiSocket;
  return [...dnsAddonObjects(config, socket), ...ingressAddonObjects(config, socket)];
}

export async function applyAddons(client: Client, config: ClusterConfig): Promise<void> {
  for (const obj of addonObjects(config)) {
    const r = resourceForKind(obj.apiVersion, obj.kind);
    if (!r) throw new Error(`add-on object ${obj.kind} ${obj.metadata.name}: the API does not serve ${obj.apiVersion}`);
    try {
      await client.create(r, obj.metadata.namespace, obj);
    } catch (e) {
      if (!(isApiError(e) && e.reason === 'AlreadyExists')) throw e;
    }
  }
}

const ADDON_WAIT_MS = 60_000;

/** Wait until the add-ons' Deployments are available: the cluster is usable then. */
export async function waitForAddons(client: Client, config: ClusterConfig, warn: (message: string) => void): Promise<void> {
  const deployments = resourceForKind('apps/v1', 'Deployment')!;
  const deadline = Date.now() + ADDON_WAIT_MS;
  for (const d of addonObjects(config).filter((o) => o.kind === 'Deployment')) {
    for (;;) {
      const live = await client.get<Deployment>(deployments, d.metadata.namespace, d.metadata.name!);
      if ((live.status?.availableReplicas ?? 0) >= (live.spec.replicas ?? 1)) break;
      if (Date.now() > deadline) {
        warn(`add-on ${d.metadata.namespace}/${d.metadata.name} is not available yet (kemu get pods -n kube-system)`);
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
