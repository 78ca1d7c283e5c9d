// Shared objects for the IPVS-mode unit tests: a node with two addresses, Services and
// EndpointSlices built the way the API server stores them, and the maps the change trackers make.

import type { EndpointSlice, Service, ServiceSpec } from '../../src/api/types.js';
import { EndpointsChangeTracker, ServiceChangeTracker } from '../../src/proxy/change-tracker.js';
import type { IpvsBuildInput } from '../../src/proxy/ipvs/builder.js';
import type { IpvsProxierConfig } from '../../src/proxy/ipvs/config.js';

export const NODE = 'node-a';

export const ipvsConfig = (over: Partial<IpvsProxierConfig> = {}): IpvsProxierConfig => ({
  ipFamily: 'IPv4',
  nodeName: NODE,
  nodeIP: '172.18.0.2',
  masqueradeAll: false,
  masqueradeMark: '0x00004000',
  clusterCIDR: '10.244.0.0/16',
  hostAddresses: ['172.18.0.2/16', '127.0.0.1/8', '192.168.7.4/24'],
  randomFully: true,
  syncPeriodMs: 30_000,
  ...over,
});

export function service(name: string, spec: Partial<ServiceSpec>, extra: Partial<Service> = {}): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { namespace: 'ns1', name },
    spec: { clusterIP: '10.96.0.50', ports: [{ name: 'http', port: 80, protocol: 'TCP' }], ...spec },
    ...extra,
  };
}

export interface Ep {
  ip: string;
  node?: string;
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
}

export function slice(svcName: string, eps: Ep[], port = 8080, protocol: 'TCP' | 'UDP' | 'SCTP' = 'TCP'): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace: 'ns1', name: `${svcName}-1`, labels: { 'kubernetes.io/service-name': svcName } },
    addressType: 'IPv4',
    endpoints: eps.map((e) => ({
      addresses: [e.ip],
      nodeName: e.node ?? 'node-b',
      conditions: { ready: e.ready ?? true, serving: e.serving ?? true, terminating: e.terminating ?? false },
    })),
    ports: [{ name: 'http', port, protocol }],
  };
}

export function buildInput(services: Service[], slices: EndpointSlice[]): IpvsBuildInput {
  const st = new ServiceChangeTracker('IPv4');
  const et = new EndpointsChangeTracker('IPv4', NODE);
  for (const s of services) st.onServiceAdd(s);
  for (const s of slices) et.onEndpointSliceAdd(s);
  return { services: st.update().map, endpoints: et.update().map };
}
