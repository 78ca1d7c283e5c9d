import { describe, expect, it } from 'vitest';
import type { EndpointSlice, Namespace, Pod, Service } from '../../src/api/types.js';
import { buildClusterIndex, dashedIP } from '../../src/dns/kubernetes/cluster-index.js';
import { parseRequest } from '../../src/dns/kubernetes/request.js';
import { KubernetesZone, type KubernetesOptions } from '../../src/dns/kubernetes/zone.js';
import { addressFromReverse, reverseZoneOfCidr } from '../../src/dns/wire/ip.js';
import { formatRR, TYPE } from '../../src/dns/wire/message.js';

const ns = (name: string): Namespace => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
const svc = (name: string, spec: Service['spec']): Service => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'app' }, spec });
const slice = (name: string, service: string, endpoints: EndpointSlice['endpoints'], ports?: EndpointSlice['ports']): EndpointSlice => ({
  apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name, namespace: 'app', labels: { 'kubernetes.io/service-name': service } }, addressType: 'IPv4', endpoints, ...(ports ? { ports } : {}),
});
const pod = (name: string, ip: string): Pod => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'app' }, spec: { containers: [] }, status: { podIP: ip } });

const objects = {
  namespaces: [ns('app'), ns('kube-system')],
  services: [
    svc('web', { clusterIP: '10.96.0.20', clusterIPs: ['10.96.0.20'], ports: [{ name: 'http', protocol: 'TCP', port: 80 }, { name: 'https', protocol: 'TCP', port: 443 }] }),
    svc('db', { clusterIP: 'None', clusterIPs: ['None'] }),
    svc('ext', { type: 'ExternalName', externalName: 'web.app.svc.cluster.local' }),
    svc('ipext', { type: 'ExternalName', externalName: '192.0.2.1' }),
  ],
  endpointSlices: [
    slice('db-1', 'db', [
      { addresses: ['10.244.1.2'], hostname: 'db-0' },
      { addresses: ['10.244.1.3'], targetRef: { kind: 'Pod', name: 'db-1' } },
      { addresses: ['10.244.1.4'], conditions: { ready: false } },
    ], [{ name: 'pg', protocol: 'TCP', port: 5432 }]),
    slice('web-1', 'web', [{ addresses: ['10.244.2.2'] }], [{ name: 'http', protocol: 'TCP', port: 8080 }]),
  ],
  pods: [pod('db-1', '10.244.1.3')],
};

const base: KubernetesOptions = { zones: ['cluster.local.', 'in-addr.arpa.'], namespaces: [], pods: 'disabled', ttl: 5, endpointPodNames: false, ignoreEmptyService: false, localIPs: [] };

function ask(opts: Partial<KubernetesOptions>, qname: string, qtype: number): string[] | string {
  const o = { ...base, ...opts };
  const zone = new KubernetesZone(o, buildClusterIndex(objects, o), 42);
  const z = zone.matchZone(qname)!;
  const r = zone.resolve({ qname, qtype, zone: z });
  if (r.kind !== 'records') return r.kind;
  return [...r.answer, ...r.additional].map(formatRR);
}

describe('kubernetes zone model', () => {
  it('reads the query grammar right to left', () => {
    expect(parseRequest('_http._tcp.web.app.svc.cluster.local.', 'cluster.local.')).toMatchObject({ podOrSvc: 'svc', namespace: 'app', service: 'web', port: 'http', protocol: 'tcp' });
    expect(parseRequest('db-0.db.app.svc.cluster.local.', 'cluster.local.')).toMatchObject({ endpoint: 'db-0', service: 'db' });
    expect(parseRequest('a.b.c.d.app.svc.cluster.local.', 'cluster.local.')).toBeUndefined();
    expect(parseRequest('foo.cluster.local.', 'cluster.local.')).toBeUndefined();
    expect(parseRequest('svc.cluster.local.', 'cluster.local.')).toMatchObject({ podOrSvc: '' });
  });

  it('labels endpoints by hostname, then pod name (endpoint_pod_names), then dashed IP', () => {
    expect(dashedIP('fd00::')).toBe('fd00--0');
    expect(dashedIP('5678:abcd::1')).toBe('5678-abcd--1');
    expect(ask({}, 'db.app.svc.cluster.local.', TYPE.SRV)).toEqual([
      'db.app.svc.cluster.local. 5 IN SRV 0 50 5432 db-0.db.app.svc.cluster.local.',
      'db.app.svc.cluster.local. 5 IN SRV 0 50 5432 10-244-1-3.db.app.svc.cluster.local.',
      'db-0.db.app.svc.cluster.local. 5 IN A 10.244.1.2',
      '10-244-1-3.db.app.svc.cluster.local. 5 IN A 10.244.1.3',
    ]);
    expect(ask({ endpointPodNames: true }, 'db-1.db.app.svc.cluster.local.', TYPE.A)).toEqual(['db-1.db.app.svc.cluster.local. 5 IN A 10.244.1.3']);
  });

  it('leaves not-ready endpoints out of headless answers', () => {
    expect(ask({}, 'db.app.svc.cluster.local.', TYPE.A)).toEqual(['db.app.svc.cluster.local. 5 IN A 10.244.1.2', 'db.app.svc.cluster.local. 5 IN A 10.244.1.3']);
    expect(ask({}, '10-244-1-4.db.app.svc.cluster.local.', TYPE.A)).toBe('name-error');
  });

  it('gives ClusterIP SRV weight 100/entries over all ports and NXDOMAIN for an unknown port', () => {
    expect(ask({}, 'web.app.svc.cluster.local.', TYPE.SRV)).toEqual([
      'web.app.svc.cluster.local. 5 IN SRV 0 50 80 web.app.svc.cluster.local.',
      'web.app.svc.cluster.local. 5 IN SRV 0 50 443 web.app.svc.cluster.local.',
      'web.app.svc.cluster.local. 5 IN A 10.96.0.20',
    ]);
    expect(ask({}, '_grpc._tcp.web.app.svc.cluster.local.', TYPE.SRV)).toBe('name-error');
  });

  it('chases an in-zone ExternalName target and refuses an IP-literal one', () => {
    expect(ask({}, 'ext.app.svc.cluster.local.', TYPE.A)).toEqual([
      'ext.app.svc.cluster.local. 5 IN CNAME web.app.svc.cluster.local.',
      'web.app.svc.cluster.local. 5 IN A 10.96.0.20',
    ]);
    expect(ask({}, 'ipext.app.svc.cluster.local.', TYPE.A)).toBe('name-error');
  });

  it('answers pod names per pods mode', () => {
    expect(ask({}, '10-244-1-3.app.pod.cluster.local.', TYPE.A)).toBe('name-error');
    expect(ask({ pods: 'insecure' }, '1-2-3-4.app.pod.cluster.local.', TYPE.A)).toEqual(['1-2-3-4.app.pod.cluster.local. 5 IN A 1.2.3.4']);
    expect(ask({ pods: 'verified' }, '1-2-3-4.app.pod.cluster.local.', TYPE.A)).toBe('name-error');
    expect(ask({ pods: 'verified' }, '10-244-1-3.app.pod.cluster.local.', TYPE.A)).toEqual(['10-244-1-3.app.pod.cluster.local. 5 IN A 10.244.1.3']);
  });

  it('builds PTRs from ClusterIPs first, then endpoints, never pod names', () => {
    expect(ask({}, '20.0.96.10.in-addr.arpa.', TYPE.PTR)).toEqual(['20.0.96.10.in-addr.arpa. 5 IN PTR web.app.svc.cluster.local.']);
    expect(ask({}, '2.1.244.10.in-addr.arpa.', TYPE.PTR)).toEqual(['2.1.244.10.in-addr.arpa. 5 IN PTR db-0.db.app.svc.cluster.local.']);
    expect(ask({ namespaces: ['kube-system'] }, '2.1.244.10.in-addr.arpa.', TYPE.PTR)).toBe('name-error');
  });

  it('keeps the SOA rules: TTL min(ttl,300), minimum = ttl, owner spelled as asked', () => {
    const zone = new KubernetesZone({ ...base, ttl: 600 }, buildClusterIndex(objects, base), 42);
    expect(formatRR(zone.soa('Cluster.Local.'))).toBe('Cluster.Local. 300 IN SOA ns.dns.Cluster.Local. hostmaster.Cluster.Local. 42 7200 1800 86400 600');
  });

  it('reads reverse names and CIDR zones', () => {
    expect(addressFromReverse('4.3.2.1.in-addr.arpa.')).toBe('1.2.3.4');
    expect(addressFromReverse('3.2.1.in-addr.arpa.')).toBeUndefined();
    expect(addressFromReverse(`1.${'0.'.repeat(23)}d.c.b.a.4.3.2.1.ip6.arpa.`)).toBe('1234:abcd::1');
    expect(reverseZoneOfCidr('10.0.0.0/8')).toBe('10.in-addr.arpa.');
  });
});
