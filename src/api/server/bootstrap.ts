// What kube-apiserver creates on a fresh cluster: the system namespaces and the `kubernetes`
// Service in default (no selector: its endpoints are the API server itself). Existing objects are
// left alone, so this runs on every start.

import type { ClusterConfig } from '../cluster.js';
import { isApiError } from '../errors.js';
import { RESOURCES, type ResourceType } from '../resources.js';
import type { KubeObject, Service } from '../types.js';
import type { ObjectRegistry } from './object-registry.js';

export const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

function resource(kind: string): ResourceType {
  return RESOURCES.find((r) => r.kind === kind) as ResourceType;
}

function kubernetesService(config: ClusterConfig): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'kubernetes', namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: {
      type: 'ClusterIP',
      clusterIP: config.kubernetesServiceIP,
      clusterIPs: [config.kubernetesServiceIP],
      ports: [{ name: 'https', protocol: 'TCP', port: 443, targetPort: 6443 }],
      sessionAffinity: 'None',
    },
  };
}

async function ensure(registry: ObjectRegistry, r: ResourceType, namespace: string | undefined, obj: KubeObject): Promise<void> {
  try {
    registry.get(r, namespace, obj.metadata.name ?? '');
  } catch (e) {
    if (!(isApiError(e) && e.code === 404)) throw e;
    await registry.create(r, namespace, obj);
  }
}

export async function bootstrap(registry: ObjectRegistry, config: ClusterConfig): Promise<void> {
  const namespaces = resource('Namespace');
  for (const name of SYSTEM_NAMESPACES) {
    await ensure(registry, namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  }
  await ensure(registry, resource('Service'), 'default', kubernetesService(config));
}
