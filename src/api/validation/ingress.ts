// Ingress and IngressClass validation (pkg/apis/networking/validation).

import { fieldErrors, GoSyntax, type FieldError } from '../errors.js';
import type { Ingress, IngressBackend, IngressClass, HTTPIngressPath } from '../types.js';
import { nameIsDNSSubdomain, validateImmutable, validateObjectMeta, validateObjectMetaUpdate } from './meta.js';
import { isDNS1035Label, isDNS1123Subdomain, isIP, isValidPortName, isValidPortNum, isWildcardDNS1123Subdomain, regexError } from './names.js';

const PATH_TYPES = ['Exact', 'ImplementationSpecific', 'Prefix'];
const INVALID_PATH_SEQUENCES = ['//', '/./', '/../', '%2f', '%2F'];
const INVALID_PATH_SUFFIXES = ['/..', '/.'];
const HTTP_PATH_FMT = "[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+";
const HTTP_PATH_RE = new RegExp(`^${HTTP_PATH_FMT}$`);

/** A host with '*' must be a wildcard subdomain (`*.example.com`); others a plain DNS subdomain. */
function hostErrors(host: string, path: string): FieldError[] {
  const msgs = host.includes('*') ? isWildcardDNS1123Subdomain(host) : isDNS1123Subdomain(host);
  return msgs.map((m) => fieldErrors.invalid(path, host, m));
}

/** IsValidPathSegmentName: what may stand in a URL path segment (kind and name of a resource backend). */
function pathSegmentErrors(name: string, path: string): FieldError[] {
  if (name === '.' || name === '..') return [fieldErrors.invalid(path, name, `may not be '${name}'`)];
  return ['/', '%'].filter((c) => name.includes(c)).map((c) => fieldErrors.invalid(path, name, `may not contain '${c}'`));
}

function validateBackend(b: IngressBackend, path: string): FieldError[] {
  if (b.resource && b.service) return [fieldErrors.invalid(path, '', 'cannot set both resource and service backends')];
  const errs: FieldError[] = [];
  if (b.resource) {
    const r = b.resource;
    const rp = `${path}.resource`;
    if (r.apiGroup !== undefined) for (const m of isDNS1123Subdomain(r.apiGroup)) errs.push(fieldErrors.invalid(`${rp}.apiGroup`, r.apiGroup, m));
    if (!r.kind) errs.push(fieldErrors.required(`${rp}.kind`, 'kind is required'));
    else errs.push(...pathSegmentErrors(r.kind, `${rp}.kind`));
    if (!r.name) errs.push(fieldErrors.required(`${rp}.name`, 'name is required'));
    else errs.push(...pathSegmentErrors(r.name, `${rp}.name`));
    return errs;
  }
  if (!b.service) return [fieldErrors.invalid(path, '', 'resource or service backend is required')];
  const s = b.service;
  if (!s.name) errs.push(fieldErrors.required(`${path}.service.name`));
  else for (const m of isDNS1035Label(s.name)) errs.push(fieldErrors.invalid(`${path}.service.name`, s.name, m));
  const portName = s.port?.name ?? '';
  const portNumber = s.port?.number ?? 0;
  if (portName && portNumber) errs.push(fieldErrors.invalid(path, '', 'cannot set both port name & port number'));
  else if (portName) for (const m of isValidPortName(portName)) errs.push(fieldErrors.invalid(`${path}.service.port.name`, portName, m));
  else if (portNumber) for (const m of isValidPortNum(portNumber)) errs.push(fieldErrors.invalid(`${path}.service.port.number`, portNumber, m));
  else errs.push(fieldErrors.required(path, 'port name or number is required'));
  return errs;
}

function validatePath(p: HTTPIngressPath, path: string): FieldError[] {
  if (!p.pathType) return [fieldErrors.required(`${path}.pathType`, 'pathType must be specified')];
  const errs: FieldError[] = [];
  const value = p.path ?? '';
  const pp = `${path}.path`;
  switch (p.pathType) {
    case 'Exact':
    case 'Prefix':
      if (!value.startsWith('/')) errs.push(fieldErrors.invalid(pp, value, 'must be an absolute path'));
      if (value) {
        for (const seq of INVALID_PATH_SEQUENCES) if (value.includes(seq)) errs.push(fieldErrors.invalid(pp, value, `must not contain '${seq}'`));
        for (const suf of INVALID_PATH_SUFFIXES) if (value.endsWith(suf)) errs.push(fieldErrors.invalid(pp, value, `cannot end with '${suf}'`));
      }
      break;
    case 'ImplementationSpecific':
      if (value && !value.startsWith('/')) errs.push(fieldErrors.invalid(pp, value, 'must be an absolute path'));
      break;
    default:
      errs.push(fieldErrors.notSupported(`${path}.pathType`, p.pathType, PATH_TYPES));
  }
  return [...errs, ...validateBackend(p.backend ?? {}, `${path}.backend`)];
}

function validateRules(ing: Ingress): FieldError[] {
  const errs: FieldError[] = [];
  (ing.spec.rules ?? []).forEach((rule, i) => {
    const path = `spec.rules[${i}]`;
    if (rule.host) {
      if (isIP(rule.host)) errs.push(fieldErrors.invalid(`${path}.host`, rule.host, 'must be a DNS name, not an IP address'));
      errs.push(...hostErrors(rule.host, `${path}.host`));
    }
    if (!rule.http) return;
    const paths = rule.http.paths ?? [];
    if (paths.length === 0) errs.push(fieldErrors.required(`${path}.http.paths`));
    paths.forEach((p, j) => errs.push(...validatePath(p, `${path}.http.paths[${j}]`)));
  });
  return errs;
}

function validateTLS(ing: Ingress): FieldError[] {
  const errs: FieldError[] = [];
  (ing.spec.tls ?? []).forEach((tls, i) => {
    (tls.hosts ?? []).forEach((h, j) => errs.push(...hostErrors(h, `spec.tls[${i}].hosts[${j}]`)));
    if (tls.secretName) {
      for (const m of isDNS1123Subdomain(tls.secretName)) errs.push(fieldErrors.invalid(`spec.tls[${i}].secretName`, tls.secretName, m));
    }
  });
  return errs;
}

export function validateIngress(ing: Ingress): FieldError[] {
  const spec = ing.spec ?? {};
  const i: Ingress = { ...ing, spec };
  const errs = validateObjectMeta(ing.metadata, true, nameIsDNSSubdomain);
  if ((spec.rules ?? []).length === 0 && !spec.defaultBackend) {
    const shown = new GoSyntax(spec.rules ? '[]networking.IngressRule{}' : '[]networking.IngressRule(nil)');
    errs.push(fieldErrors.invalid('spec', shown, 'either `defaultBackend` or `rules` must be specified'));
  }
  if (spec.defaultBackend) errs.push(...validateBackend(spec.defaultBackend, 'spec.defaultBackend'));
  errs.push(...validateRules(i), ...validateTLS(i));
  if (spec.ingressClassName !== undefined) {
    for (const m of isDNS1123Subdomain(spec.ingressClassName)) errs.push(fieldErrors.invalid('spec.ingressClassName', spec.ingressClassName, m));
  }
  const annotated = ing.metadata?.annotations?.['kubernetes.io/ingress.class'];
  if (annotated && spec.ingressClassName !== undefined && annotated !== spec.ingressClassName) {
    errs.push(fieldErrors.invalid('annotations.kubernetes.io/ingress.class', annotated, 'must match `ingressClassName` when both are specified'));
  }
  return errs;
}

export function validateIngressUpdate(ing: Ingress, old: Ingress): FieldError[] {
  return [...validateObjectMetaUpdate(ing.metadata, old.metadata), ...validateIngress(ing)];
}

/** IsDomainPrefixedPath: `example.com/controller-name`. */
function controllerErrors(controller: string, path: string): FieldError[] {
  if (!controller) return [fieldErrors.required(path)];
  const slash = controller.indexOf('/');
  const host = slash < 0 ? '' : controller.slice(0, slash);
  const rest = slash < 0 ? '' : controller.slice(slash + 1);
  if (!host || !rest) return [fieldErrors.invalid(path, controller, 'must be a domain-prefixed path (such as "acme.io/foo")')];
  const errs = isDNS1123Subdomain(host).map((m) => fieldErrors.invalid(path, host, m));
  if (!HTTP_PATH_RE.test(rest)) errs.push(fieldErrors.invalid(path, rest, regexError('Invalid path', HTTP_PATH_FMT)));
  return errs;
}

export function validateIngressClass(ic: IngressClass): FieldError[] {
  const controller = ic.spec?.controller ?? '';
  const errs = validateObjectMeta(ic.metadata, false, nameIsDNSSubdomain);
  if (controller.length > 250) errs.push(fieldErrors.tooLong('spec.controller', 250));
  return [...errs, ...controllerErrors(controller, 'spec.controller')];
}

export function validateIngressClassUpdate(ic: IngressClass, old: IngressClass): FieldError[] {
  return [
    ...validateObjectMetaUpdate(ic.metadata, old.metadata),
    ...validateImmutable(ic.spec?.controller, old.spec?.controller, 'spec.controller'),
    ...validateIngressClass(ic),
  ];
}
