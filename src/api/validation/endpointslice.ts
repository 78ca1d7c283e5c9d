// EndpointSlice validation (pkg/apis/discovery/validation).

import { fieldErrors, type FieldError } from '../errors.js';
import type { EndpointSlice } from '../types.js';
import { nameIsDNSSubdomain, validateObjectMeta, validateObjectMetaUpdate } from './meta.js';
import { isDNS1123Label, isDNS1123Subdomain, isIPv4, isIPv6, isQualifiedName, nonSpecialIPErrors } from './names.js';
import { validateProtocol } from './service.js';

const ADDRESS_TYPES = ['FQDN', 'IPv4', 'IPv6'];
const MAX_ENDPOINTS = 1000;
const MAX_ADDRESSES = 100;
const MAX_PORTS = 20000;

const tooMany = (field: string, actual: number, max: number): FieldError => ({
  type: 'TooMany',
  field,
  value: actual,
  detail: `must have at most ${max} ${max === 1 ? 'item' : 'items'}`,
});

/** IsFullyQualifiedDomainName: a DNS subdomain of at least two labels; a trailing dot is fine. */
function fqdnErrors(name: string, path: string): FieldError[] {
  if (!name) return [fieldErrors.required(path)];
  const n = name.replace(/\.$/, '');
  const sub = isDNS1123Subdomain(n);
  if (sub.length) return [fieldErrors.invalid(path, n, sub.join(','))];
  const labels = n.split('.');
  if (labels.length < 2) return [fieldErrors.invalid(path, n, 'should be a domain with at least two segments separated by dots')];
  for (const l of labels) {
    const errs = isDNS1123Label(l);
    if (errs.length) return [fieldErrors.invalid(path, l, errs.join(','))];
  }
  return [];
}

function validateAddress(addressType: string, address: string, path: string): FieldError[] {
  switch (addressType) {
    case 'IPv4':
      if (!isIPv4(address)) return [fieldErrors.invalid(path, address, 'must be a valid IPv4 address')];
      return nonSpecialIPErrors(address).map((m) => fieldErrors.invalid(path, address, m));
    case 'IPv6':
      if (!isIPv6(address)) return [fieldErrors.invalid(path, address, 'must be a valid IPv6 address')];
      return nonSpecialIPErrors(address).map((m) => fieldErrors.invalid(path, address, m));
    case 'FQDN':
      return fqdnErrors(address, path);
    default:
      return []; // an unknown address type is reported once, on addressType
  }
}

function validateEndpoints(slice: EndpointSlice): FieldError[] {
  const endpoints = slice.endpoints ?? [];
  if (endpoints.length > MAX_ENDPOINTS) return [tooMany('endpoints', endpoints.length, MAX_ENDPOINTS)];
  const errs: FieldError[] = [];
  endpoints.forEach((ep, i) => {
    const path = `endpoints[${i}]`;
    const addresses = ep.addresses ?? [];
    if (addresses.length === 0) errs.push(fieldErrors.required(`${path}.addresses`, 'must contain at least 1 address'));
    else if (addresses.length > MAX_ADDRESSES) errs.push(tooMany(`${path}.addresses`, addresses.length, MAX_ADDRESSES));
    addresses.forEach((a, j) => errs.push(...validateAddress(slice.addressType, a, `${path}.addresses[${j}]`)));
    if (ep.nodeName !== undefined) for (const m of isDNS1123Subdomain(ep.nodeName)) errs.push(fieldErrors.invalid(`${path}.nodeName`, ep.nodeName, m));
    if (ep.hostname !== undefined) for (const m of isDNS1123Label(ep.hostname)) errs.push(fieldErrors.invalid(`${path}.hostname`, ep.hostname, m));
  });
  return errs;
}

function validatePorts(slice: EndpointSlice): FieldError[] {
  const ports = slice.ports ?? [];
  if (ports.length > MAX_PORTS) return [tooMany('ports', ports.length, MAX_PORTS)];
  const errs: FieldError[] = [];
  const names = new Set<string>();
  ports.forEach((p, i) => {
    const path = `ports[${i}]`;
    const name = p.name ?? '';
    if (name) for (const m of isDNS1123Label(name)) errs.push(fieldErrors.invalid(`${path}.name`, name, m));
    if (names.has(name)) errs.push(fieldErrors.duplicate(`${path}.name`, name));
    names.add(name);
    errs.push(...validateProtocol(p.protocol, `${path}.protocol`));
    if (p.appProtocol !== undefined) for (const m of isQualifiedName(p.appProtocol)) errs.push(fieldErrors.invalid(`${path}.appProtocol`, p.appProtocol, m));
  });
  return errs;
}

export function validateEndpointSlice(slice: EndpointSlice): FieldError[] {
  const errs = validateObjectMeta(slice.metadata, true, nameIsDNSSubdomain);
  if (!slice.addressType) errs.push(fieldErrors.required('addressType'));
  else if (!ADDRESS_TYPES.includes(slice.addressType)) errs.push(fieldErrors.notSupported('addressType', slice.addressType, ADDRESS_TYPES));
  return [...errs, ...validateEndpoints(slice), ...validatePorts(slice)];
}

export function validateEndpointSliceUpdate(slice: EndpointSlice, old: EndpointSlice): FieldError[] {
  const errs = [...validateObjectMetaUpdate(slice.metadata, old.metadata), ...validateEndpointSlice(slice)];
  if (slice.addressType !== old.addressType) errs.push(fieldErrors.invalid('addressType', slice.addressType, 'field is immutable'));
  return errs;
}
