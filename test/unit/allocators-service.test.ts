import { describe, expect, it } from 'vitest';
import { defaultClusterConfig, type ClusterConfig } from '../../src/api/cluster.js';
import { applyDefaults } from '../../src/api/defaults.js';
import { fieldErrorString } from '../../src/api/errors.js';
import { ServiceAllocator } from '../../src/api/registry/service-allocation.js';
import { resourceForKind } from '../../src/api/resources.js';
import type { Service } from '../../src/api/types.js';
import { IPAllocator, ipStaticBandSize } from '../../src/controllers/allocators/ip-allocator.js';
import { PortAllocator, portStaticBandSize } from '../../src/controllers/allocators/port-allocator.js';

const SERVICES = resourceForKind('v1', 'Service')!;

function svc(name: string, spec: Partial<Service['spec']> = {}): Service {
  const s: Service = { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { ports: [{ port: 80 }], ...spec } };
  applyDefaults(SERVICES, s);
  return s;
}

const config = (over: Partial<ClusterConfig> = {}): ClusterConfig => ({ ...defaultClusterConfig(), ...over });
const messages = (r: { errors: Parameters<typeof fieldErrorString>[0][] }): string[] => r.errors.map(fieldErrorString);
const ipNumber = (ip: string): number => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);

describe('static band sizes', () => {
  it('reserves min(max(16, n/16), 256) IPs and min(max(16, n/32), 128) ports', () => {
    expect(ipStaticBandSize(2 ** 20)).toBe(256); // a /12
    expect(ipStaticBandSize(1024)).toBe(64);
    expect(ipStaticBandSize(64)).toBe(16);
    expect(ipStaticBandSize(8)).toBe(0);
    expect(portStaticBandSize(2768)).toBe(86); // 30000-32767
    expect(portStaticBandSize(100)).toBe(16);
    expect(portStaticBandSize(20000)).toBe(128);
    expect(portStaticBandSize(16)).toBe(0);
  });
});

describe('IPAllocator', () => {
  it('never hands out the network or broadcast address', () => {
    const a = new IPAllocator('10.0.0.0/29');
    const got = new Set<string>();
    for (let i = 0; i < 6; i++) got.add(a.allocateNext()!);
    expect([...got].sort()).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6']);
    expect(a.allocateNext()).toBeUndefined();
    expect(a.allocate('10.0.0.0')).toBe('the provided IP (10.0.0.0) is not in the valid range. The range of valid IPs is 10.0.0.0/29');
    expect(a.allocate('10.0.0.7')).toMatch(/not in the valid range/);
  });

  it('fills the dynamic band before touching the static one', () => {
    const a = new IPAllocator('10.96.0.0/24'); // static band: 10.96.0.1 - 10.96.0.16
    expect(a.firstDynamic).toBe('10.96.0.17');
    const dynamic: string[] = [];
    for (let i = 0; i < 254 - 16; i++) dynamic.push(a.allocateNext()!);
    expect(dynamic.every((ip) => ipNumber(ip) >= ipNumber('10.96.0.17'))).toBe(true);
    const next = a.allocateNext()!;
    expect(ipNumber(next)).toBeLessThanOrEqual(ipNumber('10.96.0.16'));
  });

  it('picks where the random source points, within the dynamic band', () => {
    expect(new IPAllocator('10.96.0.0/12', () => 0).allocateNext()).toBe('10.96.1.1');
    expect(new IPAllocator('10.96.0.0/12', () => 0.999999999).allocateNext()).toBe('10.111.255.254');
  });
});

describe('PortAllocator', () => {
  it('checks range and double allocation with upstream wording, and reuses released ports', () => {
    const p = new PortAllocator({ min: 30000, max: 30009 });
    expect(p.allocate(29999)).toBe('provided port is not in the valid range. The range of valid ports is 30000-30009');
    expect(p.allocate(30005)).toBeUndefined();
    expect(p.allocate(30005)).toBe('provided port is already allocated');
    p.release(30005);
    expect(p.allocate(30005)).toBeUndefined();
  });

  it('starts dynamic allocation above the static band', () => {
    const p = new PortAllocator({ min: 30000, max: 32767 }, () => 0);
    expect(p.firstDynamic).toBe(30086);
    expect(p.allocateNext()).toBe(30086);
  });
});

describe('ServiceAllocator', () => {
  it('gives a ClusterIP Service a dynamic IP and no nodePorts', () => {
    const a = new ServiceAllocator(config(), () => 0);
    const s = svc('web');
    const r = a.allocate(s);
    expect(r.errors).toEqual([]);
    r.commit();
    expect(s.spec.clusterIP).toBe('10.96.1.1');
    expect(s.spec.clusterIPs).toEqual(['10.96.1.1']);
    expect(s.spec.ports?.[0].nodePort).toBeUndefined();
  });

  it('honours the static kubernetes and kube-dns IPs', () => {
    const a = new ServiceAllocator(config());
    const k = svc('kubernetes', { clusterIP: '10.96.0.1' });
    const dns = svc('kube-dns', { clusterIP: '10.96.0.10' });
    expect(a.allocate(k).errors).toEqual([]);
    expect(a.allocate(dns).errors).toEqual([]);
    expect(k.spec.clusterIPs).toEqual(['10.96.0.1']);
  });

  it('rejects a requested IP that is taken or out of range', () => {
    const a = new ServiceAllocator(config());
    a.allocate(svc('a', { clusterIP: '10.96.0.5' })).commit();
    expect(messages(a.allocate(svc('b', { clusterIP: '10.96.0.5' })))).toEqual([
      'spec.clusterIPs: Invalid value: []string{"10.96.0.5"}: failed to allocate IP 10.96.0.5: provided IP is already allocated',
    ]);
    expect(messages(a.allocate(svc('c', { clusterIP: '192.168.0.5' })))).toEqual([
      'spec.clusterIPs: Invalid value: []string{"192.168.0.5"}: failed to allocate IP 192.168.0.5: the provided IP (192.168.0.5) is not in the valid range. The range of valid IPs is 10.96.0.0/12',
    ]);
  });

  it('reports an exhausted range and reuses an IP after release', () => {
    const a = new ServiceAllocator(config({ serviceCIDR: '10.96.0.0/29' }));
    const services = Array.from({ length: 6 }, (_, i) => svc(`s${i}`));
    for (const s of services) expect(a.allocate(s).errors).toEqual([]);
    expect(messages(a.allocate(svc('extra')))).toEqual(['spec.clusterIPs: Invalid value: failed to allocate a serviceIP: range is full']);
    a.release(services[2]);
    const again = svc('again');
    expect(a.allocate(again).errors).toEqual([]);
    expect(again.spec.clusterIP).toBe(services[2].spec.clusterIP);
  });

  it('gives headless and ExternalName Services no IP', () => {
    const a = new ServiceAllocator(config({ serviceCIDR: '10.96.0.0/30' })); // room for two IPs
    const headless = svc('h', { clusterIP: 'None' });
    const ext = svc('e', { type: 'ExternalName', externalName: 'example.com', ports: [] });
    expect(a.allocate(headless).errors).toEqual([]);
    expect(a.allocate(ext).errors).toEqual([]);
    expect(headless.spec.clusterIPs).toEqual(['None']);
    expect(ext.spec.clusterIP).toBeUndefined();
    expect(a.allocate(svc('x')).errors).toEqual([]);
    expect(a.allocate(svc('y')).errors).toEqual([]);
  });

  it('allocates a nodePort per port for NodePort Services, sharing one across protocols', () => {
    const a = new ServiceAllocator(config(), () => 0);
    const s = svc('dns', {
      type: 'NodePort',
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP' },
        { name: 'dns-tcp', port: 53, protocol: 'TCP' },
        { name: 'metrics', port: 9153 },
      ],
    });
    expect(a.allocate(s).errors).toEqual([]);
    const [udp, tcp, metrics] = (s.spec.ports ?? []).map((p) => p.nodePort);
    expect(udp).toBe(30086);
    expect(tcp).toBe(udp);
    expect(metrics).not.toBe(udp);
    expect(metrics).toBeGreaterThanOrEqual(30086);
  });

  it('rejects a requested nodePort that is taken or out of range', () => {
    const a = new ServiceAllocator(config());
    a.allocate(svc('a', { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] })).commit();
    expect(messages(a.allocate(svc('b', { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] })))).toEqual([
      'spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated',
    ]);
    expect(messages(a.allocate(svc('c', { type: 'NodePort', ports: [{ port: 80, nodePort: 8080 }] })))).toEqual([
      'spec.ports[0].nodePort: Invalid value: 8080: provided port is not in the valid range. The range of valid ports is 30000-32767',
    ]);
  });

  it('leaves nothing allocated when a later part fails', () => {
    const a = new ServiceAllocator(config({ serviceCIDR: '10.96.0.0/30' }), () => 0);
    a.allocate(svc('taken', { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] })).commit();
    const failing = svc('f', { type: 'NodePort', ports: [{ name: 'a', port: 81 }, { name: 'b', port: 82, nodePort: 30080 }] });
    expect(a.allocate(failing).errors).toHaveLength(1);
    // the IP and the nodePort the failed request took are free again
    const next = svc('n', { type: 'NodePort', ports: [{ port: 81, nodePort: failing.spec.ports![0].nodePort }] });
    expect(next.spec.ports?.[0].nodePort).toBeDefined();
    expect(a.allocate(next).errors).toEqual([]);
    expect(next.spec.clusterIP).toBe(failing.spec.clusterIP);
  });

  it('gives everything back on rollback', () => {
    const a = new ServiceAllocator(config());
    const s = svc('a', { type: 'NodePort', clusterIP: '10.96.0.50', ports: [{ port: 80, nodePort: 30050 }] });
    a.allocate(s).rollback();
    expect(a.allocate(svc('b', { type: 'NodePort', clusterIP: '10.96.0.50', ports: [{ port: 80, nodePort: 30050 }] })).errors).toEqual([]);
  });

  it('allocates a healthCheckNodePort for LoadBalancer Services with Local traffic policy', () => {
    const a = new ServiceAllocator(config());
    const s = svc('lb', { type: 'LoadBalancer', externalTrafficPolicy: 'Local' });
    expect(a.allocate(s).errors).toEqual([]);
    expect(s.spec.healthCheckNodePort).toBeGreaterThanOrEqual(30000);
    expect(s.spec.healthCheckNodePort).not.toBe(s.spec.ports?.[0].nodePort);
    const plain = svc('lb2', { type: 'LoadBalancer' });
    a.allocate(plain);
    expect(plain.spec.healthCheckNodePort).toBeUndefined();
  });

  it('keeps allocated values a client leaves out on update', () => {
    const a = new ServiceAllocator(config());
    const old = svc('a', { type: 'NodePort' });
    a.allocate(old).commit();
    const next = svc('a', { type: 'NodePort', ports: [{ port: 80 }] }); // no clusterIP, no nodePort
    const r = a.allocate(next, old);
    expect(r.errors).toEqual([]);
    r.commit();
    expect(next.spec.clusterIPs).toEqual(old.spec.clusterIPs);
    expect(next.spec.ports?.[0].nodePort).toBe(old.spec.ports?.[0].nodePort);
  });

  it('releases nodePorts on commit when the type goes from NodePort to ClusterIP', () => {
    const a = new ServiceAllocator(config());
    const old = svc('a', { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] });
    a.allocate(old).commit();
    const next = structuredClone(old);
    next.spec.type = 'ClusterIP';
    const r = a.allocate(next, old);
    expect(r.errors).toEqual([]);
    expect(next.spec.ports?.[0].nodePort).toBeUndefined();
    expect(next.spec.externalTrafficPolicy).toBeUndefined();
    // not yet committed: the port is still held
    expect(messages(a.allocate(svc('b', { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] })))).toHaveLength(1);
    r.commit();
    expect(a.allocate(svc('c', { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] })).errors).toEqual([]);
  });

  it('releases the ClusterIP on commit when the type becomes ExternalName', () => {
    const a = new ServiceAllocator(config());
    const old = svc('a', { clusterIP: '10.96.0.77' });
    a.allocate(old).commit();
    const next = structuredClone(old);
    next.spec.type = 'ExternalName';
    next.spec.externalName = 'example.com';
    const r = a.allocate(next, old);
    expect(next.spec.clusterIP).toBeUndefined();
    expect(next.spec.ipFamilies).toBeUndefined();
    r.commit();
    expect(a.allocate(svc('b', { clusterIP: '10.96.0.77' })).errors).toEqual([]);
  });

  it('restores what stored Services hold after a restart', () => {
    const first = new ServiceAllocator(config());
    const stored = [svc('a', { type: 'NodePort' }), svc('b', { type: 'LoadBalancer', externalTrafficPolicy: 'Local' })];
    for (const s of stored) first.allocate(s).commit();

    const restarted = new ServiceAllocator(config());
    restarted.restore(stored);
    expect(messages(restarted.allocate(svc('c', { clusterIP: stored[0].spec.clusterIP })))).toEqual([
      `spec.clusterIPs: Invalid value: []string{"${stored[0].spec.clusterIP}"}: failed to allocate IP ${stored[0].spec.clusterIP}: provided IP is already allocated`,
    ]);
    const hc = stored[1].spec.healthCheckNodePort!;
    expect(messages(restarted.allocate(svc('d', { type: 'NodePort', ports: [{ port: 80, nodePort: hc }] })))).toEqual([
      `spec.ports[0].nodePort: Invalid value: ${hc}: provided port is already allocated`,
    ]);
  });
});
