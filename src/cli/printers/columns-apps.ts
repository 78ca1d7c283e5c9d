// Table columns for apps/v1 kinds.

import { formatLabelSelector } from '../../api/labels.js';
import type { Deployment, KubeObject, ReplicaSet } from '../../api/types.js';
import { AGE_COLUMN, NAME_COLUMN, typed, type Column } from './column.js';
import { orNone } from './format.js';

const workloadSpec = (o: KubeObject): Deployment['spec'] | ReplicaSet['spec'] => (o as Deployment | ReplicaSet).spec;

/** CONTAINERS, IMAGES and SELECTOR, the wide columns Deployments and ReplicaSets share. */
const WORKLOAD_WIDE_COLUMNS: Column[] = [
  { header: 'CONTAINERS', wide: true, value: (o) => workloadSpec(o).template.spec.containers.map((c) => c.name).join(',') },
  { header: 'IMAGES', wide: true, value: (o) => workloadSpec(o).template.spec.containers.map((c) => c.image ?? '').join(',') },
  { header: 'SELECTOR', wide: true, value: (o) => orNone(formatLabelSelector(workloadSpec(o).selector)) },
];

const deploymentColumns = typed<Deployment>([
  NAME_COLUMN,
  { header: 'READY', value: (d) => `${d.status?.readyReplicas ?? 0}/${d.spec.replicas ?? 1}` },
  { header: 'UP-TO-DATE', value: (d) => String(d.status?.updatedReplicas ?? 0) },
  { header: 'AVAILABLE', value: (d) => String(d.status?.availableReplicas ?? 0) },
  AGE_COLUMN,
]);

const replicaSetColumns = typed<ReplicaSet>([
  NAME_COLUMN,
  { header: 'DESIRED', value: (r) => String(r.spec.replicas ?? 1) },
  { header: 'CURRENT', value: (r) => String(r.status?.replicas ?? 0) },
  { header: 'READY', value: (r) => String(r.status?.readyReplicas ?? 0) },
  AGE_COLUMN,
]);

export const APPS_COLUMNS: Record<string, Column[]> = {
  deployments: [...deploymentColumns, ...WORKLOAD_WIDE_COLUMNS],
  replicasets: [...replicaSetColumns, ...WORKLOAD_WIDE_COLUMNS],
};
