// Service validation as pkg/apis/core/validation ValidateService / ValidateServiceUpdate has it.
// Checks that need the allocator's state (a requested ClusterIP or nodePort being free and in range)
// live in src/api/registry/service-allocation.ts, as upstream keeps them in the service registry.

import { fieldErrors, GoSyntax, type FieldError } from '../errors.js';
import type { Service, ServicePort } from '../types.js';
import { externallyAccessible } from '../defaults.js';
import { validateLabels, validateObjectMeta, validateObjectMetaUpdate, goStrings, type NameRule } from './meta.js';
import { isDNS1035Label, isDNS1123Label, isDNS1123Subdomain, isIP, isQualifiedName, isValidIP, isValidPortName, isValidPortNum, nonSpecialIPErrors } from './names.js';

/** Service names are DNS-1035 labels: they become DNS names and environment variable prefixes. */
const serviceNameRule: NameRule = (name, prefix) => isDNS1035Label(prefix && name.endsWith('-') ? `${name.slice(0, -1)}a` : name);

const SUPPORTED_PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const SUPPORTED_TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
const SUPPORTED_AFFINITY = ['ClientIP', 'None'];
const SUPPORTED_TRAFFIC_POLICIES = ['Cluster', 'Local'];
const SUPPORTED_IP_FAMILIES = ['IPv4', 'IPv6'];
const SUPPORTED_IP_FAMILY_POLICIES = ['PreferDualStack', 'RequireDualStack', 'SingleStack'];
const MAX_CLIENT_IP_AFFINITY_SECONDS = 86400;
const KUBELET_PORT = 10250;

export function isHeadless(svc: Service): boolean {
  const ips = svc.spec?.clusterIPs;
  return ips !== undefined && ips.length === 1 && ips[0] === 'None';
}

/** A port or targetPort: a number in 1..65535 or an IANA service name. */
export function validatePortNumOrName(port: number | string, path: string): FieldError[] {
  if (typeof port === 'number') return isValidPortNum(port).map((m) => fieldErrors.invalid(path, port, m));
  return isValidPortName(port).map((m) => fieldErrors.invalid(path, port, m));
}

export function validateProtocol(protocol: string | undefined, path: string): FieldError[] {
  if (!protocol) return [fieldErrors.required(path)];
  return SUPPORTED_PROTOCOLS.includes(protocol) ? [] : [fieldErrors.notSupported(path, protocol, SUPPORTED_PROTOCOLS)];
}

function validateServicePort(sp: ServicePort, requireName: boolean, names: Set<string>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (requireName && !sp.name) {
    errs.push(fieldErrors.required(`${path}.name`));
  } else if (sp.name) {
    for (const m of isDNS1123Label(sp.name)) errs.push(fieldErrors.invalid(`${path}.name`, sp.name, m));
    if (names.has(sp.name)) errs.push(fieldErrors.duplicate(`${path}.name`, sp.name));
    else names.add(sp.name);
  }
  for (const m of isValidPortNum(sp.port)) errs.push(fieldErrors.invalid(`${path}.port`, sp.port, m));
  errs.push(...validateProtocol(sp.protocol, `${path}.protocol`));
  if (sp.targetPort !== undefined) errs.push(...validatePortNumOrName(sp.targetPort, `${path}.targetPort`));
  if (sp.appProtocol !== undefined) {
    for (const m of isQualifiedName(sp.appProtocol)) errs.push(fieldErrors.invalid(`${path}.appProtocol`, sp.appProtocol, m));
  }
  return errs;
}

/** core.ServicePort{...} as %#v prints the (protocol, port) key in upstream's duplicate message. */
function goServicePortKey(protocol: string | undefined, port: number): GoSyntax {
  return new GoSyntax(
    `core.ServicePort{Name:"", Protocol:${JSON.stringify(protocol ?? '')}, AppProtocol:(*string)(nil), Port:${port}, ` +
      'TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}',
  );
}

function validatePorts(svc: Service): FieldError[] {
  const errs: FieldError[] = [];
  const ports = svc.spec.ports ?? [];
  const names = new Set<string>();
  ports.forEach((p, i) => errs.push(...validateServicePort(p, ports.length > 1, names, `spec.ports[${i}]`)));

  if (svc.spec.type === 'ClusterIP') {
    ports.forEach((p, i) => {
      if (p.nodePort) errs.push(fieldErrors.forbidden(`spec.ports[${i}].nodePort`, "may not be used when `type` is 'ClusterIP'"));
    });
  }
  const nodePorts = new Set<string>();
  ports.forEach((p, i) => {
    if (!p.nodePort) return;
    const key = `${p.protocol}/${p.nodePort}`;
    if (nodePorts.has(key)) errs.push(fieldErrors.duplicate(`spec.ports[${i}].nodePort`, p.nodePort));
    nodePorts.add(key);
  });
  const seen = new Set<string>();
  ports.forEach((p, i) => {
    const key = `${p.protocol}/${p.port}`;
    if (seen.has(key)) errs.push(fieldErrors.duplicate(`spec.ports[${i}]`, goServicePortKey(p.protocol, p.port)));
    seen.add(key);
  });
  return errs;
}

function validateTypeSpecific(svc: Service): FieldError[] {
  const spec = svc.spec;
  const errs: FieldError[] = [];
  switch (spec.type) {
    case 'LoadBalancer':
      if (isHeadless(svc)) errs.push(fieldErrors.invalid('spec.clusterIPs[0]', 'None', "may not be set to 'None' for LoadBalancer services"));
      (spec.ports ?? []).forEach((p, i) => {
        if (p.port === KUBELET_PORT) {
          errs.push(fieldErrors.invalid(`spec.ports[${i}]`, p.port, `may not expose port ${KUBELET_PORT} externally since it is used by kubelet`));
        }
      });
      if (isHeadless(svc)) errs.push(fieldErrors.invalid('spec.clusterIP', spec.clusterIP, "may not be set to 'None' for LoadBalancer services"));
      break;
    case 'NodePort':
      if (isHeadless(svc)) errs.push(fieldErrors.invalid('spec.clusterIP', spec.clusterIP, "may not be set to 'None' for NodePort services"));
      break;
    case 'ExternalName': {
      if ((spec.clusterIPs?.length ?? 0) > 0) errs.push(fieldErrors.forbidden('spec.clusterIPs', 'may not be set for ExternalName services'));
      if ((spec.ipFamilies?.length ?? 0) > 0) errs.push(fieldErrors.forbidden('spec.ipFamilies', 'may not be set for ExternalName services'));
      if (spec.ipFamilyPolicy !== undefined) errs.push(fieldErrors.forbidden('spec.ipFamilyPolicy', 'may not be set for ExternalName services'));
      // A trailing dot marks the name fully qualified and is allowed.
      const cname = (spec.externalName ?? '').replace(/\.$/, '');
      if (!cname) errs.push(fieldErrors.required('spec.externalName'));
      else for (const m of isDNS1123Subdomain(cname)) errs.push(fieldErrors.invalid('spec.externalName', cname, m));
      break;
    }
  }
  return errs;
}

function validateSessionAffinity(svc: Service): FieldError[] {
  const { sessionAffinity, sessionAffinityConfig } = svc.spec;
  if (!sessionAffinity) return [fieldErrors.required('spec.sessionAffinity')];
  if (!SUPPORTED_AFFINITY.includes(sessionAffinity)) return [fieldErrors.notSupported('spec.sessionAffinity', sessionAffinity, SUPPORTED_AFFINITY)];
  const path = 'spec.sessionAffinityConfig';
  if (sessionAffinity === 'None') {
    return sessionAffinityConfig ? [fieldErrors.forbidden(path, 'must not be set when session affinity is None')] : [];
  }
  const why = 'when session affinity type is ClientIP';
  if (!sessionAffinityConfig) return [fieldErrors.required(path, why)];
  if (!sessionAffinityConfig.clientIP) return [fieldErrors.required(`${path}.clientIP`, why)];
  const timeout = sessionAffinityConfig.clientIP.timeoutSeconds;
  if (timeout === undefined) return [fieldErrors.required(`${path}.clientIP.timeoutSeconds`, why)];
  if (timeout <= 0 || timeout > MAX_CLIENT_IP_AFFINITY_SECONDS) {
    return [fieldErrors.invalid(`${path}.clientIP.timeoutSeconds`, timeout, `must be greater than 0 and less than ${MAX_CLIENT_IP_AFFINITY_SECONDS}`)];
  }
  return [];
}

/** clusterIP/clusterIPs in sync, valid addresses, families and policy (ValidateServiceClusterIPsRelatedFields). */
function validateClusterIPs(svc: Service): FieldError[] {
  const spec = svc.spec;
  if (spec.type === 'ExternalName') return [];
  const errs: FieldError[] = [];
  const ips = spec.clusterIPs ?? [];
  const shown = new GoSyntax(goStrings(spec.clusterIPs));
  if (spec.clusterIP) {
    if (ips.length === 0) errs.push(fieldErrors.required('spec.clusterIPs'));
    else if (ips[0] !== spec.clusterIP) errs.push(fieldErrors.invalid('spec.clusterIPs', shown, 'first value must match `clusterIP`'));
  } else if (ips.length > 0) {
    errs.push(fieldErrors.invalid('spec.clusterIPs', shown, 'must be empty when `clusterIP` is not specified'));
  }
  const families = new Set<string>();
  (spec.ipFamilies ?? []).forEach((f, i) => {
    if (!SUPPORTED_IP_FAMILIES.includes(f)) errs.push(fieldErrors.notSupported(`spec.ipFamilies[${i}]`, f, SUPPORTED_IP_FAMILIES));
    if (families.has(f)) errs.push(fieldErrors.duplicate(`spec.ipFamilies[${i}]`, f));
    families.add(f);
  });
  if (spec.ipFamilyPolicy !== undefined && !SUPPORTED_IP_FAMILY_POLICIES.includes(spec.ipFamilyPolicy)) {
    errs.push(fieldErrors.notSupported('spec.ipFamilyPolicy', spec.ipFamilyPolicy, SUPPORTED_IP_FAMILY_POLICIES));
  }
  ips.forEach((ip, i) => {
    if (i === 0 && ip === 'None') {
      if (ips.length > 1) errs.push(fieldErrors.invalid('spec.clusterIPs', shown, "'None' must be the first and only value"));
      return;
    }
    for (const m of isValidIP(ip)) errs.push(fieldErrors.invalid(`spec.clusterIPs[${i}]`, ip, m));
  });
  if (ips.length > 2) errs.push(fieldErrors.invalid('spec.clusterIPs', shown, 'may only hold up to 2 values'));
  return errs;
}

function validateTrafficPolicies(svc: Service): FieldError[] {
  const spec = svc.spec;
  const errs: FieldError[] = [];
  if (!externallyAccessible(svc)) {
    if (spec.externalTrafficPolicy) {
      errs.push(fieldErrors.invalid('spec.externalTrafficPolicy', spec.externalTrafficPolicy, 'may only be set for externally-accessible services'));
    }
  } else if (!spec.externalTrafficPolicy) {
    errs.push(fieldErrors.required('spec.externalTrafficPolicy'));
  } else if (!SUPPORTED_TRAFFIC_POLICIES.includes(spec.externalTrafficPolicy)) {
    errs.push(fieldErrors.notSupported('spec.externalTrafficPolicy', spec.externalTrafficPolicy, SUPPORTED_TRAFFIC_POLICIES));
  }
  // healthCheckNodePort being set when needed is the allocator's job; here only its misuse.
  const needsHealthCheck = spec.type === 'LoadBalancer' && spec.externalTrafficPolicy === 'Local';
  if (!needsHealthCheck && spec.healthCheckNodePort) {
    errs.push(
      fieldErrors.invalid('spec.healthCheckNodePort', spec.healthCheckNodePort, "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"),
    );
  }
  if (spec.internalTrafficPolicy === undefined) {
    if (spec.type === 'NodePort' || spec.type === 'LoadBalancer' || spec.type === 'ClusterIP') errs.push(fieldErrors.required('spec.internalTrafficPolicy'));
  } else if (!SUPPORTED_TRAFFIC_POLICIES.includes(spec.internalTrafficPolicy)) {
    errs.push(fieldErrors.notSupported('spec.internalTrafficPolicy', spec.internalTrafficPolicy, SUPPORTED_TRAFFIC_POLICIES));
  }
  return errs;
}

export function validateService(svc: Service): FieldError[] {
  const spec = svc.spec ?? {};
  const s: Service = { ...svc, spec };
  const errs = validateObjectMeta(svc.metadata, true, serviceNameRule);
  if ((spec.ports ?? []).length === 0 && !isHeadless(s) && spec.type !== 'ExternalName') errs.push(fieldErrors.required('spec.ports'));
  errs.push(...validateTypeSpecific(s));
  errs.push(...validatePorts(s));
  if (spec.selector) errs.push(...validateLabels(spec.selector, 'spec.selector'));
  errs.push(...validateSessionAffinity(s));
  errs.push(...validateClusterIPs(s));
  (spec.externalIPs ?? []).forEach((ip, i) => {
    const path = `spec.externalIPs[${i}]`;
    if (!isIP(ip)) errs.push(...isValidIP(ip).map((m) => fieldErrors.invalid(path, ip, m)));
    else errs.push(...nonSpecialIPErrors(ip).map((m) => fieldErrors.invalid(path, ip, m)));
  });
  if (!spec.type) errs.push(fieldErrors.required('spec.type'));
  else if (!SUPPORTED_TYPES.includes(spec.type)) errs.push(fieldErrors.notSupported('spec.type', spec.type, SUPPORTED_TYPES));
  errs.push(...validateTrafficPolicies(s));
  return errs;
}

/** The primary ClusterIP stays once set (validateUpgradeDowngradeClusterIPs), unless to or from ExternalName. */
function validateClusterIPsUpdate(svc: Service, old: Service): FieldError[] {
  if (svc.spec.type === 'ExternalName' || old.spec.type === 'ExternalName') return [];
  if (isHeadless(svc) && isHeadless(old)) return [];
  const now = svc.spec.clusterIPs ?? [];
  const before = old.spec.clusterIPs ?? [];
  const shown = new GoSyntax(goStrings(svc.spec.clusterIPs ?? []));
  const errs: FieldError[] = [];
  if (now.length === before.length) {
    before.forEach((ip, i) => {
      if (ip !== now[i]) errs.push(fieldErrors.invalid(`spec.clusterIPs[${i}]`, shown, 'may not change once set'));
    });
  } else if (now.length < before.length) {
    if (now.length === 0) errs.push(fieldErrors.invalid('spec.clusterIPs[0]', shown, 'primary clusterIP can not be unset'));
    else if (now[0] !== before[0]) errs.push(fieldErrors.invalid('spec.clusterIPs[0]', shown, 'may not change once set'));
    if (now.length === 1 && svc.spec.ipFamilyPolicy !== 'SingleStack') {
      errs.push(fieldErrors.invalid('spec.clusterIPs[0]', shown, "`ipFamilyPolicy` must be set to 'SingleStack' when releasing the secondary clusterIP"));
    }
  } else if (before.length > 0 && now[0] !== before[0]) {
    errs.push(fieldErrors.invalid('spec.clusterIPs[0]', shown, 'may not change once set'));
  }
  return errs;
}

export function validateServiceUpdate(svc: Service, old: Service): FieldError[] {
  const s: Service = { ...svc, spec: svc.spec ?? {} };
  const o: Service = { ...old, spec: old.spec ?? {} };
  return [...validateObjectMetaUpdate(svc.metadata, old.metadata), ...validateClusterIPsUpdate(s, o), ...validateService(s)];
}
