// Table columns for discovery.k8s.io and networking.k8s.io kinds.

import type { EndpointSlice, Ingress, IngressClass } from '../../api/types.js';
import { AGE_COLUMN, NAME_COLUMN, typed, type Column } from './column.js';
import { listWithMore, loadBalancerAddresses } from './format.js';

const endpointSliceColumns = typed<EndpointSlice>([
  NAME_COLUMN,
  { header: 'ADDRESSTYPE', value: (s) => s.addressType },
  {
    header: 'PORTS',
    value: (s) => {
      const ports = s.ports ?? [];
      if (ports.length === 0) return '<unset>';
      return listWithMore(ports.map((p) => (p.port !== undefined ? String(p.port) : p.name ?? '*')), 3);
    },
  },
  {
    header: 'ENDPOINTS',
    value: (s) => (s.endpoints?.length ? listWithMore(s.endpoints.flatMap((e) => e.addresses), 3) : '<unset>'),
  },
  AGE_COLUMN,
]);

/** Hosts of the rules, '*' when no rule names one; at most three then `+ N more...`. */
function ingressHosts(ing: Ingress): string {
  const rules = ing.spec.rules ?? [];
  const hosts = rules.slice(0, 3).map((r) => r.host).filter((h): h is string => !!h);
  if (hosts.length === 0) return '*';
  return rules.length > 3 ? `${hosts.join(',')} + ${rules.length - 3} more...` : hosts.join(',');
}

const ingressColumns = typed<Ingress>([
  NAME_COLUMN,
  { header: 'CLASS', value: (i) => i.spec.ingressClassName ?? '<none>' },
  { header: 'HOSTS', value: ingressHosts },
  { header: 'ADDRESS', value: (i) => loadBalancerAddresses(i.status) },
  { header: 'PORTS', value: (i) => (i.spec.tls?.length ? '80, 443' : '80') },
  AGE_COLUMN,
]);

const ingressClassColumns = typed<IngressClass>([
  NAME_COLUMN,
  { header: 'CONTROLLER', value: (c) => c.spec.controller ?? '' },
  {
    header: 'PARAMETERS',
    value: (c) => {
      const p = c.spec.parameters as { kind?: string; apiGroup?: string; name?: string } | undefined;
      if (!p) return '<none>';
      return `${p.kind ?? ''}${p.apiGroup ? `.${p.apiGroup}` : ''}/${p.name ?? ''}`;
    },
  },
  AGE_COLUMN,
]);

export const NETWORKING_COLUMNS: Record<string, Column[]> = {
  endpointslices: endpointSliceColumns,
  ingresses: ingressColumns,
  ingressclasses: ingressClassColumns,
};
