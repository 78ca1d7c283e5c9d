// The ways one object can be read and written: the object itself, its /status, a Namespace's
// /finalize and the autoscaling/v1 Scale of Deployments and ReplicaSets. Each view says how the
// stored object looks through it and how a body written through it changes the stored object.
// pods/{name}/binding is create-only and handled by the binding handler.

import { badRequest, invalid, fieldErrors } from '../errors.js';
import { formatLabelSelector } from '../labels.js';
import type { ResourceType } from '../resources.js';
import type { KubeObject, LabelSelector } from '../types.js';
import { clone, objectName } from './objects.js';
import { finalizeUpdate, hasStatusSubresource, mainUpdate, statusUpdate } from './strategy.js';

export interface ObjectView {
  /** The object as GET returns it through this view. */
  read(stored: KubeObject): KubeObject;
  /** The stored object after a body written through this view (typeMeta of the body checked first). */
  write(current: KubeObject, incoming: KubeObject): KubeObject;
  /** The type a body written through this view must have; undefined: the resource's own type. */
  bodyType?: { apiVersion: string; kind: string };
}

export interface SubresourceInfo {
  name: string;
  /** The type served at the subresource (discovery). */
  group: string;
  version: string;
  kind: string;
  verbs: string[];
}

const SCALE_KINDS = new Set(['Deployment', 'ReplicaSet']);

/** The subresources of r, as discovery lists them. */
export function subresourcesOf(r: ResourceType): SubresourceInfo[] {
  const out: SubresourceInfo[] = [];
  const own = { group: r.group, version: r.version, kind: r.kind };
  if (hasStatusSubresource(r)) out.push({ name: 'status', ...own, verbs: ['get', 'patch', 'update'] });
  if (r.kind === 'Namespace') out.push({ name: 'finalize', ...own, verbs: ['update'] });
  if (r.kind === 'Pod') out.push({ name: 'binding', group: '', version: 'v1', kind: 'Binding', verbs: ['create'] });
  if (SCALE_KINDS.has(r.kind)) out.push({ name: 'scale', group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] });
  return out;
}

/** The view for GET/PUT/PATCH of r[/subresource], or undefined when that subresource does not exist. */
export function viewFor(r: ResourceType, subresource: string | undefined): ObjectView | undefined {
  if (subresource === undefined) return { read: (o) => o, write: (current, incoming) => mainUpdate(r, incoming, current) };
  if (subresource === 'status' && hasStatusSubresource(r)) return { read: (o) => o, write: (current, incoming) => statusUpdate(incoming, current) };
  if (subresource === 'finalize' && r.kind === 'Namespace') return { read: (o) => o, write: (current, incoming) => finalizeUpdate(incoming, current) };
  if (subresource === 'scale' && SCALE_KINDS.has(r.kind)) return scaleView();
  return undefined;
}

interface Scale extends KubeObject {
  spec?: { replicas?: number };
  status?: { replicas: number; selector?: string };
}

interface Scalable extends KubeObject {
  spec: { replicas?: number; selector?: LabelSelector };
  status?: { replicas?: number };
}

function scaleView(): ObjectView {
  return {
    bodyType: { apiVersion: 'autoscaling/v1', kind: 'Scale' },
    read(stored): Scale {
      const obj = stored as Scalable;
      const m = obj.metadata;
      return {
        apiVersion: 'autoscaling/v1',
        kind: 'Scale',
        metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.creationTimestamp },
        spec: { replicas: obj.spec.replicas ?? 1 },
        status: { replicas: obj.status?.replicas ?? 0, selector: formatLabelSelector(obj.spec.selector) },
      };
    },
    write(current, incoming): KubeObject {
      const scale = incoming as Scale;
      const name = objectName(current);
      if (scale.metadata.name !== undefined && scale.metadata.name !== name) {
        throw badRequest(`the name of the object (${scale.metadata.name}) does not match the name on the URL (${name})`);
      }
      const replicas = scale.spec?.replicas;
      if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
        throw invalid('Scale.autoscaling', name, [fieldErrors.invalid('spec.replicas', replicas ?? null, 'must be greater than or equal to 0')]);
      }
      const next = clone(current) as Scalable;
      next.spec = { ...next.spec, replicas };
      next.metadata.resourceVersion = scale.metadata.resourceVersion;
      if (next.metadata.resourceVersion === undefined) delete next.metadata.resourceVersion;
      return next;
    },
  };
}
