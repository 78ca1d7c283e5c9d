// Table columns for core/v1 kinds.

import type { ConfigMap, Event, Namespace, Node, Pod, Secret, Service } from '../../api/types.js';
import { age } from './age.js';
import { AGE_COLUMN, NAME_COLUMN, typed, type Column } from './column.js';
import { formatLabels, loadBalancerAddresses, orNone } from './format.js';
import { summarizePod } from './pod-status.js';

const podColumns = typed<Pod>([
  NAME_COLUMN,
  { header: 'READY', value: (p, ctx) => summarizePod(p, ctx.now).ready },
  { header: 'STATUS', value: (p, ctx) => summarizePod(p, ctx.now).status },
  { header: 'RESTARTS', value: (p, ctx) => summarizePod(p, ctx.now).restarts },
  AGE_COLUMN,
  { header: 'IP', wide: true, value: (p) => orNone(p.status?.podIP) },
  { header: 'NODE', wide: true, value: (p) => orNone(p.spec.nodeName) },
  { header: 'NOMINATED NODE', wide: true, value: (p) => orNone((p.status as { nominatedNodeName?: string } | undefined)?.nominatedNodeName) },
  {
    header: 'READINESS GATES',
    wide: true,
    value: (p) => {
      const gates = (p.spec.readinessGates as { conditionType: string }[] | undefined) ?? [];
      if (gates.length === 0) return '<none>';
      const met = gates.filter((g) => p.status?.conditions?.some((c) => c.type === g.conditionType && c.status === 'True')).length;
      return `${met}/${gates.length}`;
    },
  },
]);

/** `80:30080/TCP,443/TCP` or '<none>', as kubectl's makePortString. */
export function servicePorts(svc: Service): string {
  const ports = svc.spec.ports ?? [];
  if (ports.length === 0) return '<none>';
  return ports.map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`).join(',');
}

/** EXTERNAL-IP: external IPs, the load balancer's addresses, `<pending>` or the external name. */
export function serviceExternalIP(svc: Service): string {
  const type = svc.spec.type ?? 'ClusterIP';
  const external = svc.spec.externalIPs ?? [];
  switch (type) {
    case 'ClusterIP':
    case 'NodePort':
      return external.length > 0 ? external.join(',') : '<none>';
    case 'LoadBalancer': {
      const lb = loadBalancerAddresses(svc.status);
      const all = [...external, ...(lb ? [lb] : [])];
      return all.length > 0 ? all.join(',') : '<pending>';
    }
    case 'ExternalName':
      return svc.spec.externalName ?? '';
  }
}

const serviceColumns = typed<Service>([
  NAME_COLUMN,
  { header: 'TYPE', value: (s) => s.spec.type ?? 'ClusterIP' },
  { header: 'CLUSTER-IP', value: (s) => orNone(s.spec.clusterIP) },
  { header: 'EXTERNAL-IP', value: serviceExternalIP },
  { header: 'PORT(S)', value: servicePorts },
  AGE_COLUMN,
  { header: 'SELECTOR', wide: true, value: (s) => formatLabels(s.spec.selector) },
]);

/** Ready, NotReady or Unknown, plus SchedulingDisabled for a cordoned node. */
export function nodeStatus(node: Node): string {
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  const parts = [ready ? (ready.status === 'True' ? 'Ready' : 'NotReady') : 'Unknown'];
  if (node.spec?.unschedulable) parts.push('SchedulingDisabled');
  return parts.join(',');
}

/** Roles from node-role.kubernetes.io/<role> labels (and the older kubernetes.io/role). */
export function nodeRoles(node: Node): string {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(node.metadata.labels ?? {})) {
    if (k.startsWith('node-role.kubernetes.io/')) {
      const role = k.slice('node-role.kubernetes.io/'.length);
      if (role) roles.add(role);
    } else if (k === 'kubernetes.io/role' && v) roles.add(v);
  }
  return roles.size > 0 ? [...roles].sort().join(',') : '<none>';
}

const nodeAddress = (n: Node, type: string): string => orNone(n.status?.addresses?.find((a) => a.type === type)?.address);

const nodeColumns = typed<Node>([
  NAME_COLUMN,
  { header: 'STATUS', value: nodeStatus },
  { header: 'ROLES', value: nodeRoles },
  AGE_COLUMN,
  { header: 'VERSION', value: (n) => n.status?.nodeInfo?.kubeletVersion ?? '' },
  { header: 'INTERNAL-IP', wide: true, value: (n) => nodeAddress(n, 'InternalIP') },
  { header: 'EXTERNAL-IP', wide: true, value: (n) => nodeAddress(n, 'ExternalIP') },
  { header: 'OS-IMAGE', wide: true, value: (n) => orNone(n.status?.nodeInfo?.osImage) },
  { header: 'KERNEL-VERSION', wide: true, value: (n) => orNone(n.status?.nodeInfo?.kernelVersion) },
  { header: 'CONTAINER-RUNTIME', wide: true, value: (n) => orNone(n.status?.nodeInfo?.containerRuntimeVersion) },
]);

const namespaceColumns = typed<Namespace>([NAME_COLUMN, { header: 'STATUS', value: (n) => n.status?.phase ?? '' }, AGE_COLUMN]);

const secretColumns = typed<Secret>([
  NAME_COLUMN,
  { header: 'TYPE', value: (s) => s.type ?? 'Opaque' },
  { header: 'DATA', value: (s) => String(Object.keys(s.data ?? {}).length) },
  AGE_COLUMN,
]);

const configMapColumns = typed<ConfigMap>([
  NAME_COLUMN,
  { header: 'DATA', value: (c) => String(Object.keys(c.data ?? {}).length + Object.keys(c.binaryData ?? {}).length) },
  AGE_COLUMN,
]);

function eventLastSeen(e: Event, now: number): string {
  const eventTime = (e as { eventTime?: string }).eventTime;
  return age(e.lastTimestamp ?? eventTime ?? e.firstTimestamp, now);
}

const eventColumns = typed<Event>([
  { header: 'LAST SEEN', value: (e, ctx) => eventLastSeen(e, ctx.now) },
  { header: 'TYPE', value: (e) => e.type ?? '' },
  { header: 'REASON', value: (e) => e.reason ?? '' },
  { header: 'OBJECT', value: (e) => `${(e.involvedObject.kind ?? '').toLowerCase()}/${e.involvedObject.name ?? ''}` },
  { header: 'SUBOBJECT', wide: true, value: (e) => (e.involvedObject as { fieldPath?: string }).fieldPath ?? '' },
  { header: 'SOURCE', wide: true, value: (e) => [e.source?.component, e.source?.host].filter(Boolean).join(', ') },
  { header: 'MESSAGE', value: (e) => (e.message ?? '').trim() },
  { header: 'FIRST SEEN', wide: true, value: (e, ctx) => age(e.firstTimestamp, ctx.now) },
  { header: 'COUNT', wide: true, value: (e) => String(e.count ?? 1) },
  { ...NAME_COLUMN, wide: true },
]);

export const CORE_COLUMNS: Record<string, Column[]> = {
  pods: podColumns,
  services: serviceColumns,
  nodes: nodeColumns,
  namespaces: namespaceColumns,
  secrets: secretColumns,
  configmaps: configMapColumns,
  events: eventColumns,
};
