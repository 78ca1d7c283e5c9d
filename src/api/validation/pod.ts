// Pod and pod template validation (pkg/apis/core/validation ValidatePodSpec, ValidatePodUpdate),
// limited to the fields kemu runs: containers, ports, probes, DNS, restart policy, node placement.

import { fieldErrors, type FieldError } from '../errors.js';
import type { Container, ObjectMeta, Pod, PodSpec, PodTemplateSpec, Probe } from '../types.js';
import { deepEqual, nameIsDNSSubdomain, validateAnnotations, validateLabels, validateNonnegative, validateObjectMeta, validateObjectMetaUpdate } from './meta.js';
import { isDNS1123Label, isDNS1123Subdomain, isValidIP, isValidPortName, isValidPortNum } from './names.js';
import { validatePortNumOrName, validateProtocol } from './service.js';

const RESTART_POLICIES = ['Always', 'OnFailure', 'Never'];
const DNS_POLICIES = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'];
const HTTP_SCHEMES = ['HTTP', 'HTTPS'];
const MAX_DNS_NAMESERVERS = 3;
const MAX_DNS_SEARCH_PATHS = 32;

function validateContainerPorts(c: Container, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  (c.ports ?? []).forEach((p, i) => {
    const pp = `${path}[${i}]`;
    if (p.name) {
      const msgs = isValidPortName(p.name);
      if (msgs.length) for (const m of msgs) errs.push(fieldErrors.invalid(`${pp}.name`, p.name, m));
      else if (names.has(p.name)) errs.push(fieldErrors.duplicate(`${pp}.name`, p.name));
      else names.add(p.name);
    }
    if (!p.containerPort) errs.push(fieldErrors.required(`${pp}.containerPort`));
    else for (const m of isValidPortNum(p.containerPort)) errs.push(fieldErrors.invalid(`${pp}.containerPort`, p.containerPort, m));
    if (p.hostPort) for (const m of isValidPortNum(p.hostPort)) errs.push(fieldErrors.invalid(`${pp}.hostPort`, p.hostPort, m));
    errs.push(...validateProtocol(p.protocol, `${pp}.protocol`));
  });
  return errs;
}

/**
 * upstream AccumulateUniqueHostPorts: no two ports may take the same protocol/hostIP/hostPort (the
 * key is the value the error shows). The caller shares `taken` between the Pod's containers; init
 * containers run one at a time, so each gets a set of its own.
 */
function hostPortDuplicates(c: Container, path: string, taken: Set<string>): FieldError[] {
  const errs: FieldError[] = [];
  (c.ports ?? []).forEach((p, j) => {
    if (!p.hostPort) return;
    const key = `${p.protocol ?? ''}/${p.hostIP ?? ''}/${p.hostPort}`;
    if (taken.has(key)) errs.push(fieldErrors.duplicate(`${path}.ports[${j}].hostPort`, key));
    else taken.add(key);
  });
  return errs;
}

/** Exactly one handler (exec, httpGet, tcpSocket, grpc) and non-negative timings. */
function validateProbe(probe: Probe, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const handlers = (['exec', 'httpGet', 'tcpSocket', 'grpc'] as const).filter((h) => (probe as Record<string, unknown>)[h] != null);
  handlers.slice(1).forEach((h) => errs.push(fieldErrors.forbidden(`${path}.${h}`, 'may not specify more than 1 handler type')));
  if (handlers.length === 0) errs.push(fieldErrors.required(path, 'must specify a handler type'));
  // Only the first handler present is checked further; the others are already forbidden.
  switch (handlers[0]) {
    case 'exec':
      if (!probe.exec?.command?.length) errs.push(fieldErrors.required(`${path}.exec.command`));
      break;
    case 'httpGet': {
      const g = probe.httpGet!;
      if (!g.path) errs.push(fieldErrors.required(`${path}.httpGet.path`));
      errs.push(...validatePortNumOrName(g.port, `${path}.httpGet.port`));
      if (!HTTP_SCHEMES.includes(g.scheme ?? '')) errs.push(fieldErrors.notSupported(`${path}.httpGet.scheme`, g.scheme ?? '', HTTP_SCHEMES));
      break;
    }
    case 'tcpSocket':
      errs.push(...validatePortNumOrName(probe.tcpSocket!.port, `${path}.tcpSocket.port`));
      break;
  }
  for (const f of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold'] as const) {
    errs.push(...validateNonnegative(probe[f], `${path}.${f}`));
  }
  return errs;
}

function validateContainer(c: Container, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!c.name) errs.push(fieldErrors.required(`${path}.name`));
  else for (const m of isDNS1123Label(c.name)) errs.push(fieldErrors.invalid(`${path}.name`, c.name, m));
  if (!c.image) errs.push(fieldErrors.required(`${path}.image`));
  errs.push(...validateContainerPorts(c, `${path}.ports`));
  for (const kind of ['livenessProbe', 'readinessProbe', 'startupProbe'] as const) {
    const probe = c[kind];
    if (!probe) continue;
    errs.push(...validateProbe(probe, `${path}.${kind}`));
    if (kind !== 'readinessProbe' && probe.successThreshold !== undefined && probe.successThreshold !== 1) {
      errs.push(fieldErrors.invalid(`${path}.${kind}.successThreshold`, probe.successThreshold, 'must be 1'));
    }
  }
  return errs;
}

function validateDNS(spec: PodSpec, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const policy = spec.dnsPolicy;
  if (!policy) errs.push(fieldErrors.required(`${path}.dnsPolicy`));
  else if (!DNS_POLICIES.includes(policy)) errs.push(fieldErrors.notSupported(`${path}.dnsPolicy`, policy, DNS_POLICIES));
  const cfgPath = `${path}.dnsConfig`;
  const cfg = spec.dnsConfig;
  if (policy === 'None' && !cfg) return [...errs, fieldErrors.required(cfgPath, 'must provide `dnsConfig` when `dnsPolicy` is None')];
  if (!cfg) return errs;
  const servers = cfg.nameservers ?? [];
  if (policy === 'None' && servers.length === 0) {
    errs.push(fieldErrors.required(`${cfgPath}.nameservers`, 'must provide at least one DNS nameserver when `dnsPolicy` is None'));
  }
  if (servers.length > MAX_DNS_NAMESERVERS) {
    errs.push(fieldErrors.invalid(`${cfgPath}.nameservers`, servers, `must not have more than ${MAX_DNS_NAMESERVERS} nameservers`));
  }
  servers.forEach((ns, i) => errs.push(...isValidIP(ns).map((m) => fieldErrors.invalid(`${cfgPath}.nameservers[${i}]`, ns, m))));
  const searches = cfg.searches ?? [];
  if (searches.length > MAX_DNS_SEARCH_PATHS) {
    errs.push(fieldErrors.invalid(`${cfgPath}.searches`, searches, `must not have more than ${MAX_DNS_SEARCH_PATHS} search paths`));
  }
  searches.forEach((s, i) => {
    // A trailing dot is allowed; it marks the name absolute.
    for (const m of isDNS1123Subdomain(s.replace(/\.$/, ''))) errs.push(fieldErrors.invalid(`${cfgPath}.searches[${i}]`, s, m));
  });
  return errs;
}

export function validatePodSpec(spec: PodSpec | undefined, path: string): FieldError[] {
  const s = spec ?? ({ containers: [] } as PodSpec);
  const errs: FieldError[] = [];
  const names = new Set<string>();
  const check = (list: Container[] | undefined, field: string): void =>
    (list ?? []).forEach((c, i) => {
      errs.push(...validateContainer(c, `${path}.${field}[${i}]`));
      if (c.name && names.has(c.name)) errs.push(fieldErrors.duplicate(`${path}.${field}[${i}].name`, c.name));
      names.add(c.name);
    });
  check(s.initContainers, 'initContainers');
  (s.initContainers ?? []).forEach((c, i) => errs.push(...hostPortDuplicates(c, `${path}.initContainers[${i}]`, new Set())));
  if (!s.containers?.length) errs.push(fieldErrors.required(`${path}.containers`));
  check(s.containers, 'containers');
  const hostPorts = new Set<string>();
  (s.containers ?? []).forEach((c, i) => errs.push(...hostPortDuplicates(c, `${path}.containers[${i}]`, hostPorts)));

  if (!s.restartPolicy) errs.push(fieldErrors.required(`${path}.restartPolicy`));
  else if (!RESTART_POLICIES.includes(s.restartPolicy)) errs.push(fieldErrors.notSupported(`${path}.restartPolicy`, s.restartPolicy, RESTART_POLICIES));
  errs.push(...validateDNS(s, path));
  if (s.nodeName) for (const m of isDNS1123Subdomain(s.nodeName)) errs.push(fieldErrors.invalid(`${path}.nodeName`, s.nodeName, m));
  for (const f of ['hostname', 'subdomain'] as const) {
    const v = s[f];
    if (v) for (const m of isDNS1123Label(v)) errs.push(fieldErrors.invalid(`${path}.${f}`, v, m));
  }
  errs.push(...validateLabels(s.nodeSelector, `${path}.nodeSelector`));
  return errs;
}

/** A template's metadata carries only labels and annotations worth checking. */
export function validatePodTemplateSpec(t: PodTemplateSpec | undefined, path: string): FieldError[] {
  if (!t) return [fieldErrors.required(path)];
  const meta: ObjectMeta = t.metadata ?? {};
  return [
    ...validateLabels(meta.labels, `${path}.metadata.labels`),
    ...validateAnnotations(meta.annotations, `${path}.metadata.annotations`),
    ...validatePodSpec(t.spec, `${path}.spec`),
  ];
}

export function validatePod(pod: Pod): FieldError[] {
  return [...validateObjectMeta(pod.metadata, true, nameIsDNSSubdomain), ...validatePodSpec(pod.spec, 'spec')];
}

const POD_UPDATE_FORBIDDEN =
  'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,' +
  '`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),' +
  '`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

/**
 * Pod specs are immutable but for images, activeDeadlineSeconds, added tolerations and the grace
 * period: the old spec with those fields taken from the new one must equal the new spec.
 * (spec.nodeName is set through the binding subresource, not an update.)
 */
export function validatePodUpdate(pod: Pod, old: Pod): FieldError[] {
  const errs = [...validateObjectMetaUpdate(pod.metadata, old.metadata), ...validatePodSpec(pod.spec, 'spec')];
  const munged = structuredClone(old.spec) as PodSpec;
  const withImages = (oldList: Container[] | undefined, newList: Container[] | undefined): Container[] | undefined =>
    oldList?.map((c, i) => (newList?.[i] ? { ...c, image: newList[i].image } : c));
  munged.containers = withImages(old.spec.containers, pod.spec?.containers) ?? [];
  if (old.spec.initContainers) munged.initContainers = withImages(old.spec.initContainers, pod.spec?.initContainers);
  munged.activeDeadlineSeconds = pod.spec?.activeDeadlineSeconds;
  munged.terminationGracePeriodSeconds = pod.spec?.terminationGracePeriodSeconds;
  const oldTolerations = old.spec.tolerations ?? [];
  const newTolerations = pod.spec?.tolerations ?? [];
  if (oldTolerations.every((t) => newTolerations.some((n) => deepEqual(n, t)))) munged.tolerations = pod.spec?.tolerations;
  if (!deepEqual(munged, pod.spec)) errs.push(fieldErrors.forbidden('spec', POD_UPDATE_FORBIDDEN));
  return errs;
}
