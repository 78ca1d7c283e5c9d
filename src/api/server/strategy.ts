// What the API server does per kind around a write, as the registry strategies of kube-apiserver:
// which fields the server owns on create, what an update of the main resource may not change
// (status, system metadata), when generation moves, and how deletion goes — graceful for Pods on
// a node, held by finalizers, Terminating for Namespaces.

import { randomUUID } from 'node:crypto';
import { conflict } from '../errors.js';
import type { ResourceType } from '../resources.js';
import type { KubeObject, Namespace, Pod, PodCondition } from '../types.js';
import { clone, deepEqual, qualifiedResource, timestamp } from './objects.js';

/** The kinds whose status is written through the /status subresource only. */
const STATUS_SUBRESOURCE_KINDS = new Set(['Pod', 'Node', 'Service', 'Deployment', 'ReplicaSet', 'Namespace', 'Ingress']);

export function hasStatusSubresource(r: ResourceType): boolean {
  return STATUS_SUBRESOURCE_KINDS.has(r.kind);
}

const DEFAULT_POD_GRACE_SECONDS = 30;

/** The kubernetes finalizer the namespace controller clears through namespaces/{name}/finalize. */
export const NAMESPACE_FINALIZER = 'kubernetes';

/** Sets what the server owns on a new object and resets status the way each kind's strategy does. */
export function prepareForCreate(r: ResourceType, obj: KubeObject): void {
  const meta = obj.metadata;
  meta.uid = randomUUID();
  meta.creationTimestamp = timestamp();
  meta.generation = 1;
  delete meta.resourceVersion;
  delete meta.deletionTimestamp;
  delete meta.deletionGracePeriodSeconds;
  switch (r.kind) {
    case 'Pod':
      obj.status = { phase: 'Pending', qosClass: qosClass(obj as Pod) };
      break;
    case 'Namespace': {
      const ns = obj as Namespace;
      ns.spec = { ...ns.spec, finalizers: [NAMESPACE_FINALIZER] };
      ns.status = { phase: 'Active' };
      break;
    }
    case 'Service':
    case 'Ingress':
      obj.status = { loadBalancer: {} };
      break;
    case 'Deployment':
    case 'ReplicaSet':
      obj.status = {};
      break;
  }
}

type Resources = { requests?: Record<string, unknown>; limits?: Record<string, unknown> } | undefined;

/** The Pod's QoS class from its containers' cpu/memory requests and limits (k8s qos.GetPodQOS). */
function qosClass(pod: Pod): 'BestEffort' | 'Burstable' | 'Guaranteed' {
  const containers = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  let any = false;
  let guaranteed = true;
  for (const c of containers) {
    const res = c.resources as Resources;
    for (const name of ['cpu', 'memory']) {
      const limit = res?.limits?.[name];
      const request = res?.requests?.[name] ?? limit;
      if (limit !== undefined || request !== undefined) any = true;
      if (limit === undefined || String(request) !== String(limit)) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

/**
 * An update of the main resource: the incoming object, with the metadata the server owns and (for
 * kinds with a /status subresource) the status kept from the stored object.
 */
export function mainUpdate(r: ResourceType, incoming: KubeObject, current: KubeObject): KubeObject {
  const next = clone(incoming);
  const uid = next.metadata.uid;
  if (uid && uid !== current.metadata.uid) {
    throw conflict(qualifiedResource(r), current.metadata.name ?? '', `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${current.metadata.uid}`);
  }
  keepServerMetadata(next, current);
  if (hasStatusSubresource(r)) setOrDelete(next, 'status', current.status);
  if (r.kind === 'Namespace') {
    // spec.finalizers changes only through namespaces/{name}/finalize
    (next as Namespace).spec = { ...(next as Namespace).spec, finalizers: (current as Namespace).spec?.finalizers };
  }
  return next;
}

/** An update through /status: the stored object with the incoming status (and its resourceVersion precondition). */
export function statusUpdate(incoming: KubeObject, current: KubeObject): KubeObject {
  const next = clone(current);
  setOrDelete(next, 'status', clone(incoming.status));
  setOrDelete(next.metadata, 'resourceVersion', incoming.metadata.resourceVersion);
  return next;
}

/** An update through namespaces/{name}/finalize: only spec.finalizers is taken. */
export function finalizeUpdate(incoming: KubeObject, current: KubeObject): KubeObject {
  const next = clone(current) as Namespace;
  next.spec = { ...next.spec, finalizers: clone((incoming as Namespace).spec?.finalizers ?? []) };
  setOrDelete(next.metadata, 'resourceVersion', incoming.metadata.resourceVersion);
  return next;
}

function keepServerMetadata(next: KubeObject, current: KubeObject): void {
  const fields = ['uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation'] as const;
  for (const f of fields) setOrDelete(next.metadata, f, current.metadata[f]);
}

function setOrDelete<T extends object>(target: T, key: keyof T & string, value: unknown): void {
  if (value === undefined) delete target[key];
  else (target as Record<string, unknown>)[key] = value;
}

/** True when anything but metadata and status differs: what makes metadata.generation move. */
export function specChanged(next: KubeObject, current: KubeObject): boolean {
  const strip = ({ metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest }: KubeObject): Record<string, unknown> => rest;
  return !deepEqual(strip(next), strip(current));
}

function hasFinalizers(r: ResourceType, obj: KubeObject): boolean {
  if ((obj.metadata.finalizers ?? []).length > 0) return true;
  return r.kind === 'Namespace' && ((obj as Namespace).spec?.finalizers ?? []).length > 0;
}

/**
 * After an update of an object whose deletion was requested and that no longer has finalizers
 * (and no graceful deletion pending), the object is removed — genericregistry.ShouldDeleteDuringUpdate.
 */
export function removeOnUpdate(r: ResourceType, next: KubeObject, current: KubeObject): boolean {
  if (!current.metadata.deletionTimestamp || hasFinalizers(r, next)) return false;
  return (current.metadata.deletionGracePeriodSeconds ?? 0) === 0;
}

export type DeletionPlan = { action: 'remove' } | { action: 'keep' } | { action: 'mark'; next: KubeObject };

function podGracePeriod(pod: Pod, requested: number | undefined): number {
  // an unscheduled or finished Pod has no process to stop: it goes at once
  const phase = pod.status?.phase;
  if (!pod.spec?.nodeName || phase === 'Succeeded' || phase === 'Failed') return 0;
  return Math.max(0, requested ?? pod.spec.terminationGracePeriodSeconds ?? DEFAULT_POD_GRACE_SECONDS);
}

/** What a DELETE does to the stored object. */
export function deletionPlan(r: ResourceType, obj: KubeObject, requestedGrace: number | undefined): DeletionPlan {
  const meta = obj.metadata;
  if (r.kind === 'Namespace' && !meta.deletionTimestamp) {
    const next = marked(obj, 0);
    (next as Namespace).status = { ...(next as Namespace).status, phase: 'Terminating' };
    return { action: 'mark', next };
  }
  const grace = r.kind === 'Pod' ? podGracePeriod(obj as Pod, requestedGrace) : 0;
  if (grace > 0) {
    // a pending graceful deletion may be shortened, never extended
    if (meta.deletionTimestamp && (meta.deletionGracePeriodSeconds ?? 0) <= grace) return { action: 'keep' };
    return { action: 'mark', next: marked(obj, grace) };
  }
  if (hasFinalizers(r, obj)) {
    if (meta.deletionTimestamp && (meta.deletionGracePeriodSeconds ?? 0) === 0) return { action: 'keep' };
    return { action: 'mark', next: marked(obj, 0) };
  }
  return { action: 'remove' };
}

function marked(obj: KubeObject, graceSeconds: number): KubeObject {
  const next = clone(obj);
  next.metadata.deletionTimestamp = timestamp(new Date(Date.now() + graceSeconds * 1000));
  next.metadata.deletionGracePeriodSeconds = graceSeconds;
  if ((next.metadata.generation ?? 0) > 0) next.metadata.generation = (next.metadata.generation ?? 0) + 1;
  return next;
}

export interface Binding extends KubeObject {
  target?: { kind?: string; name?: string };
}

/** pods/{name}/binding: assigns the Pod to the node (once) and marks it scheduled. */
export function bindPod(current: Pod, binding: Binding): Pod {
  const name = current.metadata.name ?? '';
  if (current.metadata.deletionTimestamp) throw conflict('pods', name, `pod ${name} is being deleted, cannot be assigned to a host`);
  if (current.spec.nodeName) throw conflict('pods', name, `pod ${name} is already assigned to node "${current.spec.nodeName}"`);
  const next = clone(current);
  next.spec.nodeName = binding.target?.name;
  if (binding.metadata.annotations) next.metadata.annotations = { ...next.metadata.annotations, ...binding.metadata.annotations };
  const scheduled: PodCondition = { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: timestamp() };
  const conditions = (next.status?.conditions ?? []).filter((c) => c.type !== 'PodScheduled');
  next.status = { ...next.status, conditions: [...conditions, scheduled] };
  return next;
}
