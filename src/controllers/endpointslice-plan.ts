// What the EndpointSlice controller wants for one Service, as a pure function of the Service, the
// Pods its selector matches and the slices it already manages. Pods become endpoints with
// ready/serving/terminating conditions; they are grouped by their resolved ports (a named
// targetPort can differ per Pod), at most 100 per slice. Existing slices are updated in place and
// filled before new ones are created, to keep churn low, as upstream's reconciler does; a Service
// without endpoints keeps one empty placeholder slice.

import type { Endpoint, EndpointPort, EndpointSlice, Pod, Service, ServicePort } from '../api/types.js';
import { canonicalJson } from './pod-template-hash.js';
import { isPodReady, ownerRefTo } from './pod-util.js';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const CONTROLLER_NAME = 'endpointslice-controller.k8s.io';
const HEADLESS_LABEL = 'service.kubernetes.io/headless';
export const MAX_ENDPOINTS_PER_SLICE = 100;

export interface SliceChanges {
  create: EndpointSlice[];
  update: EndpointSlice[];
  delete: EndpointSlice[];
}

/** The Pod's port for a Service port: a named targetPort is looked up among its container ports (upstream FindPort). */
export function resolveTargetPort(pod: Pod, sp: ServicePort): number | undefined {
  const target = sp.targetPort ?? sp.port;
  if (typeof target === 'number') return target;
  const protocol = sp.protocol ?? 'TCP';
  for (const c of pod.spec.containers ?? []) {
    for (const p of c.ports ?? []) if (p.name === target && (p.protocol ?? 'TCP') === protocol) return p.containerPort;
  }
  return undefined;
}

export function endpointPorts(svc: Service, pod: Pod): EndpointPort[] {
  const out: EndpointPort[] = [];
  for (const sp of svc.spec.ports ?? []) {
    const port = resolveTargetPort(pod, sp);
    if (port === undefined) continue;
    const ep: EndpointPort = { name: sp.name ?? '', port, protocol: sp.protocol ?? 'TCP' };
    if (sp.appProtocol) ep.appProtocol = sp.appProtocol;
    out.push(ep);
  }
  return out;
}

function ipv4Of(pod: Pod): string | undefined {
  const ips = [pod.status?.podIP, ...(pod.status?.podIPs ?? []).map((x) => x.ip)];
  return ips.find((ip): ip is string => !!ip && !ip.includes(':'));
}

/** Pods with an address that are not finished; terminating ones stay (with terminating=true). */
export function shouldBeEndpoint(pod: Pod): boolean {
  return ipv4Of(pod) !== undefined && pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed';
}

export function podToEndpoint(svc: Service, pod: Pod): Endpoint {
  const serving = isPodReady(pod);
  const terminating = pod.metadata.deletionTimestamp !== undefined;
  const ep: Endpoint = {
    addresses: [ipv4Of(pod) ?? ''],
    conditions: { ready: svc.spec.publishNotReadyAddresses === true || (serving && !terminating), serving, terminating },
  };
  if (pod.spec.hostname && pod.spec.subdomain === svc.metadata.name && pod.metadata.namespace === svc.metadata.namespace) {
    ep.hostname = pod.spec.hostname;
  }
  ep.targetRef = { kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name ?? '', uid: pod.metadata.uid };
  if (pod.spec.nodeName) ep.nodeName = pod.spec.nodeName;
  return ep;
}

export function sliceLabels(svc: Service): Record<string, string> {
  const labels: Record<string, string> = { ...(svc.metadata.labels ?? {}) };
  delete labels[HEADLESS_LABEL];
  labels[SERVICE_NAME_LABEL] = svc.metadata.name ?? '';
  labels[MANAGED_BY_LABEL] = CONTROLLER_NAME;
  if (svc.spec.clusterIP === 'None') labels[HEADLESS_LABEL] = '';
  return labels;
}

function newSlice(svc: Service, ports: EndpointPort[], endpoints: Endpoint[]): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      generateName: `${svc.metadata.name}-`,
      namespace: svc.metadata.namespace,
      labels: sliceLabels(svc),
      ownerReferences: [ownerRefTo(svc)],
    },
    addressType: 'IPv4',
    endpoints,
    ports,
  };
}

const endpointKey = (ep: Endpoint) => ep.addresses[0] ?? '';
const portsKey = (ports: EndpointPort[] | undefined) => canonicalJson(ports ?? []);

interface PortGroup {
  ports: EndpointPort[];
  /** endpoint key -> endpoint; what is left after matching existing slices are new endpoints. */
  endpoints: Map<string, Endpoint>;
}

function desiredGroups(svc: Service, pods: Pod[]): Map<string, PortGroup> {
  const groups = new Map<string, PortGroup>();
  const sorted = [...pods].sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
  for (const pod of sorted) {
    if (!shouldBeEndpoint(pod)) continue;
    const ports = endpointPorts(svc, pod);
    const key = portsKey(ports);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { ports, endpoints: new Map() }));
    const ep = podToEndpoint(svc, pod);
    g.endpoints.set(endpointKey(ep), ep);
  }
  return groups;
}

function isPlaceholder(s: EndpointSlice): boolean {
  return (s.endpoints ?? []).length === 0 && (s.ports ?? []).length === 0;
}

/**
 * Changes that bring `existing` (the slices this controller manages for svc) to the desired state
 * for `pods` (the Pods matching svc's selector). Updated slices are copies with the same name.
 */
export function reconcileSlices(svc: Service, pods: Pod[], existing: EndpointSlice[], maxPerSlice = MAX_ENDPOINTS_PER_SLICE): SliceChanges {
  const groups = desiredGroups(svc, pods);
  const labels = sliceLabels(svc);
  const changes: SliceChanges = { create: [], update: [], delete: [] };
  /** Per port group: slices kept, with whether they are already being updated. */
  const kept = new Map<string, { slice: EndpointSlice; updating: boolean }[]>();

  for (const slice of existing) {
    const key = portsKey(slice.ports);
    const group = slice.addressType === 'IPv4' ? groups.get(key) : undefined;
    if (!group) {
      changes.delete.push(slice);
      continue;
    }
    let changed = canonicalJson(slice.metadata.labels ?? {}) !== canonicalJson(labels);
    const endpoints: Endpoint[] = [];
    for (const ep of slice.endpoints ?? []) {
      const want = group.endpoints.get(endpointKey(ep));
      if (!want) {
        changed = true;
        continue;
      }
      if (canonicalJson(want) !== canonicalJson(ep)) changed = true;
      endpoints.push(want);
      group.endpoints.delete(endpointKey(ep));
    }
    if (endpoints.length === 0) {
      changes.delete.push(slice);
      continue;
    }
    const copy: EndpointSlice = { ...slice, metadata: { ...slice.metadata, labels: { ...labels } }, endpoints };
    const list = kept.get(key) ?? [];
    list.push({ slice: copy, updating: changed });
    kept.set(key, list);
  }

  for (const [key, group] of groups) {
    let fresh = [...group.endpoints.values()];
    const slices = kept.get(key) ?? [];
    // 1. Fill slices that are being written anyway.
    for (const k of slices.filter((s) => s.updating)) {
      const room = maxPerSlice - k.slice.endpoints.length;
      if (room > 0) k.slice.endpoints.push(...fresh.splice(0, room));
    }
    // 2. Whole new slices for full chunks.
    while (fresh.length >= maxPerSlice) changes.create.push(newSlice(svc, group.ports, fresh.splice(0, maxPerSlice)));
    // 3. The rest goes into the fullest untouched slice that can take it all, else a new slice.
    if (fresh.length > 0) {
      const target = slices
        .filter((s) => !s.updating && s.slice.endpoints.length + fresh.length <= maxPerSlice)
        .sort((a, b) => b.slice.endpoints.length - a.slice.endpoints.length)[0];
      if (target) {
        target.slice.endpoints.push(...fresh);
        target.updating = true;
      } else {
        changes.create.push(newSlice(svc, group.ports, fresh));
      }
      fresh = [];
    }
    for (const k of slices) if (k.updating) changes.update.push(k.slice);
  }

  // A Service whose selector matches nothing keeps one empty placeholder slice.
  if (changes.delete.length === existing.length && changes.create.length === 0) {
    const old = changes.delete.length === 1 && isPlaceholder(changes.delete[0]) ? changes.delete[0] : undefined;
    if (!old) {
      changes.create.push(newSlice(svc, [], []));
    } else {
      changes.delete = [];
      if (canonicalJson(old.metadata.labels ?? {}) !== canonicalJson(labels)) changes.update.push({ ...old, metadata: { ...old.metadata, labels } });
    }
  }
  return changes;
}
