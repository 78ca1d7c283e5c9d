// The change tracking shared by all proxy modes: service ports, endpoints, categorisation.

import { describe, expect, it } from 'vitest';
import { canonicalIP, formatCIDR, parseCIDR } from '../../src/api/ip.js';
import type { EndpointSlice, Service } from '../../src/api/types.js';
import { categorizeEndpoints } from '../../src/proxy/categorize.js';
import { EndpointsChangeTracker, ServiceChangeTracker } from '../../src/proxy/change-tracker.js';
import { endpointsFromSlices, type EndpointInfo } from '../../src/proxy/endpoints.js';
import { servicePortsFromService, type ServicePortInfo } from '../../src/proxy/service-port.js';

function service(spec: Service['spec'], status?: Service['status']): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'ns', name: 'svc' }, spec, status };
}

function slice(name: string, endpoints: EndpointSlice['endpoints'], addressType: EndpointSlice['addressType'] = 'IPv4'): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace: 'ns', name, labels: { 'kubernetes.io/service-name': 'svc' } },
    addressType,
    endpoints,
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  };
}

describe('sloppy IP parsing', () => {
  it('reads leading zeros as decimal and prints canonical forms', () => {
    expect(canonicalIP('172.30.0.041')).toBe('172.30.0.41');
    expect(canonicalIP('010.000.000.010')).toBe('10.0.0.10');
    expect(canonicalIP('FD00:0:0:0:0:0:0:1')).toBe('fd00::1');
    expect(canonicalIP('2001:db8:0:1:0:0:0:0')).toBe('2001:db8:0:1::');
    expect(canonicalIP('1:0:0:2:0:0:0:3')).toBe('1:0:0:2::3'); // the longest zero run is compressed
    expect(canonicalIP('1:0:0:2:0:0:3:4')).toBe('1::2:0:0:3:4'); // on a tie, the first
    expect(canonicalIP('256.1.1.1')).toBeUndefined();
    expect(canonicalIP('1::2::3')).toBeUndefined();
  });

  it('masks CIDRs and tolerates whitespace', () => {
    expect(formatCIDR(parseCIDR(' 203.0.113.000/025')!)).toBe('203.0.113.0/25');
    expect(formatCIDR(parseCIDR('10.1.2.3/8')!)).toBe('10.0.0.0/8');
    expect(parseCIDR('10.0.0.0/33')).toBeUndefined();
  });
});

describe('service ports', () => {
  it('ignores headless and ExternalName services', () => {
    expect(servicePortsFromService(service({ clusterIP: 'None', ports: [{ port: 80 }] }), 'IPv4').size).toBe(0);
    expect(servicePortsFromService(service({ type: 'ExternalName', externalName: 'x.example', ports: [{ port: 80 }] }), 'IPv4').size).toBe(0);
  });

  it('keeps only addresses of the proxier family and skips Proxy-mode LB ingress', () => {
    const svc = service(
      {
        type: 'LoadBalancer',
        clusterIP: '172.30.0.1',
        externalIPs: ['192.168.99.1', '2001:db8::5'],
        loadBalancerSourceRanges: ['10.0.0.0/8', 'fd00::/64'],
        ports: [{ name: 'http', port: 80, nodePort: 30080 }],
      },
      { loadBalancer: { ingress: [{ ip: '1.2.3.4' }, { ip: '5.6.7.8', ipMode: 'Proxy' } as { ip: string }] } },
    );
    const [info] = [...servicePortsFromService(svc, 'IPv4').values()];
    expect(info).toMatchObject({
      clusterIP: '172.30.0.1',
      externalIPs: ['192.168.99.1'],
      loadBalancerVIPs: ['1.2.3.4'],
      loadBalancerSourceRanges: ['10.0.0.0/8'],
      protocol: 'TCP',
      nodePort: 30080,
    });
    expect(servicePortsFromService(svc, 'IPv6').size).toBe(0); // no IPv6 cluster IP
  });

  it('keeps the health-check port only for LoadBalancer services with eTP=Local', () => {
    const spec = { type: 'LoadBalancer' as const, clusterIP: '172.30.0.1', healthCheckNodePort: 30000, ports: [{ port: 80 }] };
    const hc = (s: Service['spec']): number => [...servicePortsFromService(service(s), 'IPv4').values()][0]!.healthCheckNodePort;
    expect(hc({ ...spec, externalTrafficPolicy: 'Local' })).toBe(30000);
    expect(hc({ ...spec, externalTrafficPolicy: 'Cluster' })).toBe(0);
  });

  it('defaults ClientIP affinity to three hours', () => {
    const svc = service({ clusterIP: '172.30.0.1', sessionAffinity: 'ClientIP', ports: [{ port: 80 }] });
    expect([...servicePortsFromService(svc, 'IPv4').values()][0]!.stickyMaxAgeSeconds).toBe(10800);
  });
});

describe('endpoints from slices', () => {
  it('merges slices, drops duplicates and other families, sorts by ip:port', () => {
    const map = endpointsFromSlices(
      'ns/svc',
      [
        slice('svc-b', [{ addresses: ['10.0.0.9'] }, { addresses: ['10.0.0.10'], nodeName: 'me' }]),
        slice('svc-a', [{ addresses: ['10.0.0.9'] }, { addresses: ['010.0.0.2'], conditions: { ready: false } }]),
        slice('svc-6', [{ addresses: ['fd00::1'] }], 'IPv6'),
      ],
      'IPv4',
      'me',
    );
    const eps = map.get('ns/svc:http/TCP')!;
    expect(eps.map((e) => e.endpoint)).toEqual(['10.0.0.10:8080', '10.0.0.2:8080', '10.0.0.9:8080']);
    expect(eps.map((e) => [e.ready, e.serving, e.terminating, e.isLocal])).toEqual([
      [true, true, false, true],
      [false, true, false, false],
      [true, true, false, false],
    ]);
  });
});

describe('categorizeEndpoints', () => {
  const ep = (ip: string, local: boolean, ready: boolean, serving = ready, terminating = !ready): EndpointInfo => ({
    ip, port: 80, endpoint: `${ip}:80`, ready, serving, terminating, isLocal: local,
  });
  const svc = (over: Partial<ServicePortInfo>): ServicePortInfo => ({
    name: { namespacedName: 'ns/svc', port: '', protocol: 'TCP' },
    clusterIP: '172.30.0.1', port: 80, protocol: 'TCP', nodePort: 30001, externalIPs: [], loadBalancerVIPs: [],
    loadBalancerSourceRanges: [], sessionAffinityClientIP: false, stickyMaxAgeSeconds: 0,
    externalPolicyLocal: false, internalPolicyLocal: false, healthCheckNodePort: 0, ...over,
  });
  const ips = (list: EndpointInfo[]): string[] => list.map((e) => e.ip);

  it('prefers ready endpoints and falls back to serving-terminating ones', () => {
    const eps = [ep('10.0.0.1', true, false, true, true), ep('10.0.0.2', false, true), ep('10.0.0.3', true, false, false, true)];
    const c = categorizeEndpoints(eps, svc({ externalPolicyLocal: true }));
    expect(ips(c.clusterEndpoints)).toEqual(['10.0.0.2']);
    expect(ips(c.localEndpoints)).toEqual(['10.0.0.1']);
    expect(ips(c.allReachable)).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(c.hasAnyEndpoints).toBe(true);
  });

  it('has no endpoints when nothing is ready or serving', () => {
    const c = categorizeEndpoints([ep('10.0.0.3', true, false, false, true)], svc({}));
    expect(c).toMatchObject({ clusterEndpoints: [], allReachable: [], hasAnyEndpoints: false });
  });

  it('computes local endpoints only when some policy is Local', () => {
    const eps = [ep('10.0.0.1', true, true), ep('10.0.0.2', false, true)];
    expect(ips(categorizeEndpoints(eps, svc({})).localEndpoints)).toEqual([]);
    const local = categorizeEndpoints(eps, svc({ internalPolicyLocal: true, nodePort: 0 }));
    expect([ips(local.clusterEndpoints), ips(local.allReachable)]).toEqual([[], ['10.0.0.1']]);
  });
});

describe('change trackers', () => {
  it('report a Service as updated only when its ports really changed', () => {
    const tracker = new ServiceChangeTracker('IPv4');
    const v1 = service({ clusterIP: '172.30.0.1', ports: [{ name: 'http', port: 80 }] });
    tracker.onServiceAdd(v1);
    expect([...tracker.update().updatedServices]).toEqual(['ns/svc']);
    const relabelled = { ...v1, metadata: { ...v1.metadata, labels: { a: 'b' } } };
    tracker.onServiceUpdate(v1, relabelled);
    expect(tracker.pendingCount).toBe(1);
    expect(tracker.update().updatedServices.size).toBe(0);
    tracker.onServiceDelete(relabelled);
    const afterDelete = tracker.update();
    expect([...afterDelete.updatedServices, afterDelete.map.size]).toEqual(['ns/svc', 0]);
  });

  it('track endpoints per Service across slices', () => {
    const tracker = new EndpointsChangeTracker('IPv4', 'me');
    const a = slice('svc-a', [{ addresses: ['10.0.0.1'] }]);
    tracker.onEndpointSliceAdd(a);
    tracker.onEndpointSliceAdd(slice('svc-b', [{ addresses: ['10.0.0.2'] }]));
    expect(tracker.update().map.get('ns/svc:http/TCP')!.map((e) => e.ip)).toEqual(['10.0.0.1', '10.0.0.2']);
    tracker.onEndpointSliceDelete(a);
    const update = tracker.update();
    expect([...update.updatedServices]).toEqual(['ns/svc']);
    expect(update.map.get('ns/svc:http/TCP')!.map((e) => e.ip)).toEqual(['10.0.0.2']);
  });
});
