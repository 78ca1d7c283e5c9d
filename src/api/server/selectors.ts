// ?labelSelector= and ?fieldSelector= of list, watch and deletecollection requests. Field
// selectors support metadata.name and metadata.namespace for every resource plus the fields each
// kind registers upstream (spec.nodeName for Pods — how a kubelet watches its own Pods — and so on).

import { badRequest } from '../errors.js';
import { matchesSelector, parseSelector, type Requirement } from '../labels.js';
import type { ResourceType } from '../resources.js';
import type { KubeObject } from '../types.js';

export type ObjectFilter = (obj: KubeObject) => boolean;

/** Kind-specific field labels as kube-apiserver's registries define them (GetAttrs / field label conversion). */
const KIND_FIELDS: Record<string, readonly string[]> = {
  Pod: [
    'spec.nodeName',
    'spec.restartPolicy',
    'spec.schedulerName',
    'spec.serviceAccountName',
    'spec.hostNetwork',
    'status.phase',
    'status.podIP',
    'status.nominatedNodeName',
  ],
  Node: ['spec.unschedulable'],
  Namespace: ['status.phase'],
  Secret: ['type'],
  ReplicaSet: ['status.replicas'],
  Event: [
    'involvedObject.kind',
    'involvedObject.namespace',
    'involvedObject.name',
    'involvedObject.uid',
    'involvedObject.apiVersion',
    'involvedObject.resourceVersion',
    'involvedObject.fieldPath',
    'reason',
    'reportingComponent',
    'source',
    'type',
  ],
};

interface FieldRequirement {
  field: string;
  value: string;
  equal: boolean;
}

function parseFieldSelector(r: ResourceType, s: string): FieldRequirement[] {
  const supported = new Set(['metadata.name', 'metadata.namespace', ...(KIND_FIELDS[r.kind] ?? [])]);
  const out: FieldRequirement[] = [];
  for (const term of s.split(',')) {
    if (term.trim() === '') continue;
    const m = /^([^=!]+?)\s*(==|=|!=)\s*(.*)$/.exec(term.trim());
    if (!m) throw badRequest(`invalid selector: '${s}'; can't understand '${term}'`);
    const field = m[1].trim();
    if (!supported.has(field)) throw badRequest(`field label not supported: ${field}`);
    out.push({ field, value: m[3].trim(), equal: m[2] !== '!=' });
  }
  return out;
}

/** The value a field selector compares: nested lookup rendered as text, '' when absent. */
function fieldValue(obj: KubeObject, field: string): string {
  if (field === 'source') {
    const source = (obj as { source?: { component?: string } }).source;
    return source?.component ?? '';
  }
  let v: unknown = obj;
  for (const part of field.split('.')) {
    v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[part] : undefined;
  }
  if (v === undefined || v === null) return field === 'spec.hostNetwork' || field === 'spec.unschedulable' ? 'false' : '';
  return String(v);
}

function parseLabels(s: string): Requirement[] {
  try {
    return parseSelector(s);
  } catch (e) {
    throw badRequest((e as Error).message);
  }
}

/** The filter for a request's selectors; throws 400 for selectors that do not parse or are not supported. */
export function objectFilter(r: ResourceType, labelSelector: string | undefined, fieldSelector: string | undefined): ObjectFilter {
  const labels = parseLabels(labelSelector ?? '');
  const fields = parseFieldSelector(r, fieldSelector ?? '');
  return (obj) =>
    matchesSelector(obj.metadata.labels, labels) && fields.every((f) => (fieldValue(obj, f.field) === f.value) === f.equal);
}
