// One entry point for the API server: validate an object of any served kind on create (old
// undefined) or update, as kube-apiserver's registry strategies do. Returns [] when valid.

import type { ClusterConfig } from '../cluster.js';
import type { FieldError } from '../errors.js';
import type { ResourceType } from '../resources.js';
import type { IngressRoute, Middleware, TLSOption } from '../traefik-types.js';
import type { ConfigMap, Deployment, EndpointSlice, Ingress, IngressClass, KubeObject, Namespace, Node, Pod, ReplicaSet, Secret, Service } from '../types.js';
import { validateConfigMap, validateConfigMapUpdate, validateSecret, validateSecretUpdate } from './config.js';
import { validateEndpointSlice, validateEndpointSliceUpdate } from './endpointslice.js';
import { validateIngress, validateIngressClass, validateIngressClassUpdate, validateIngressUpdate } from './ingress.js';
import { nameIsDNSSubdomain, validateObjectMeta, validateObjectMetaUpdate } from './meta.js';
import { validateNamespace, validateNamespaceUpdate } from './namespace.js';
import { validateNode, validateNodeUpdate } from './node.js';
import { validatePod, validatePodUpdate } from './pod.js';
import { validateService, validateServiceUpdate } from './service.js';
import { validateIngressRoute, validateIngressRouteUpdate, validateMiddleware, validateMiddlewareUpdate, validateTLSOption, validateTLSOptionUpdate } from './traefik.js';
import { validateDeployment, validateDeploymentUpdate, validateReplicaSet, validateReplicaSetUpdate } from './workloads.js';

export interface ValidationContext {
  config: ClusterConfig;
}

/** Pairs a kind's create and update rules; `old` decides which one runs. */
function pick<T extends KubeObject>(obj: KubeObject, old: KubeObject | undefined, create: (o: T) => FieldError[], update: (o: T, old: T) => FieldError[]): FieldError[] {
  return old ? update(obj as T, old as T) : create(obj as T);
}

/**
 * Field errors for `obj` of resource `r`; `old` is the stored object on update. No rule needs the
 * cluster settings in `ctx` yet: range checks that need allocator state are ServiceAllocator's.
 */
export function validateObject(r: ResourceType, obj: KubeObject, old: KubeObject | undefined, ctx: ValidationContext): FieldError[] {
  switch (r.kind) {
    case 'Namespace':
      return pick<Namespace>(obj, old, validateNamespace, validateNamespaceUpdate);
    case 'Node':
      return pick<Node>(obj, old, validateNode, validateNodeUpdate);
    case 'Pod':
      return pick<Pod>(obj, old, validatePod, validatePodUpdate);
    case 'Service':
      return pick<Service>(obj, old, validateService, validateServiceUpdate);
    case 'Secret':
      return pick<Secret>(obj, old, validateSecret, validateSecretUpdate);
    case 'ConfigMap':
      return pick<ConfigMap>(obj, old, validateConfigMap, validateConfigMapUpdate);
    case 'EndpointSlice':
      return pick<EndpointSlice>(obj, old, validateEndpointSlice, validateEndpointSliceUpdate);
    case 'Deployment':
      return pick<Deployment>(obj, old, validateDeployment, validateDeploymentUpdate);
    case 'ReplicaSet':
      return pick<ReplicaSet>(obj, old, validateReplicaSet, validateReplicaSetUpdate);
    case 'Ingress':
      return pick<Ingress>(obj, old, validateIngress, validateIngressUpdate);
    case 'IngressClass':
      return pick<IngressClass>(obj, old, validateIngressClass, validateIngressClassUpdate);
    case 'IngressRoute':
      return pick<IngressRoute>(obj, old, validateIngressRoute, validateIngressRouteUpdate);
    case 'Middleware':
      return pick<Middleware>(obj, old, validateMiddleware, validateMiddlewareUpdate);
    case 'TLSOption':
      return pick<TLSOption>(obj, old, validateTLSOption, validateTLSOptionUpdate);
    default: {
      // Kinds with only metadata rules (Event).
      const meta = validateObjectMeta(obj.metadata, r.namespaced, nameIsDNSSubdomain);
      return old ? [...validateObjectMetaUpdate(obj.metadata, old.metadata), ...meta] : meta;
    }
  }
}
