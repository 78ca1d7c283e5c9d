import { describe, expect, it } from 'vitest';
import type { Pod } from '../../src/api/types.js';
import { hostsFileText, parseResolvConf, podDNSConfig, podHostnameAndDomain, resolvConfText } from '../../src/node/dns-config.js';

const cluster = { dnsServiceIP: '10.96.0.10', clusterDomain: 'cluster.local' };
const nodeResolv = '# generated\nnameserver 192.0.2.53\nnameserver 192.0.2.54\nsearch corp.example lab.example\noptions edns0 timeout:2\n';

function pod(spec: Partial<Pod['spec']> = {}, name = 'web-0', namespace = 'shop'): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace }, spec: { containers: [{ name: 'c' }], ...spec } };
}

describe('resolv.conf per dnsPolicy', () => {
  it('parses the node resolv.conf, ignoring comments', () => {
    expect(parseResolvConf(nodeResolv)).toEqual({ nameservers: ['192.0.2.53', '192.0.2.54'], searches: ['corp.example', 'lab.example'], options: ['edns0', 'timeout:2'] });
  });

  it('ClusterFirst: cluster DNS, namespace search path, then the node searches; ndots:5', () => {
    expect(resolvConfText(podDNSConfig(pod(), cluster, nodeResolv))).toBe(
      'search shop.svc.cluster.local svc.cluster.local cluster.local corp.example lab.example\nnameserver 10.96.0.10\noptions ndots:5\n',
    );
  });

  it('Default: the node resolv.conf', () => {
    expect(resolvConfText(podDNSConfig(pod({ dnsPolicy: 'Default' }), cluster, nodeResolv))).toBe(
      'search corp.example lab.example\nnameserver 192.0.2.53\nnameserver 192.0.2.54\noptions edns0 timeout:2\n',
    );
  });

  it('ClusterFirst on hostNetwork falls back to Default; ClusterFirstWithHostNet does not', () => {
    expect(podDNSConfig(pod({ hostNetwork: true }), cluster, nodeResolv).nameservers).toEqual(['192.0.2.53', '192.0.2.54']);
    expect(podDNSConfig(pod({ hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' }), cluster, nodeResolv).nameservers).toEqual(['10.96.0.10']);
  });

  it('None: only dnsConfig', () => {
    const p = pod({ dnsPolicy: 'None', dnsConfig: { nameservers: ['1.1.1.1'], searches: ['a.example'], options: [{ name: 'ndots', value: '2' }, { name: 'rotate' }] } });
    expect(resolvConfText(podDNSConfig(p, cluster, nodeResolv))).toBe('search a.example\nnameserver 1.1.1.1\noptions ndots:2 rotate\n');
  });

  it('merges dnsConfig: extra servers and searches appended without duplicates, options replaced by name', () => {
    const p = pod({ dnsConfig: { nameservers: ['10.96.0.10', '9.9.9.9'], searches: ['cluster.local', 'x.example'], options: [{ name: 'ndots', value: '1' }, { name: 'edns0' }] } });
    expect(podDNSConfig(p, cluster, '')).toEqual({
      nameservers: ['10.96.0.10', '9.9.9.9'],
      searches: ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'x.example'],
      options: ['ndots:1', 'edns0'],
    });
  });

  it('keeps at most 3 nameservers and 32 search domains', () => {
    const servers = ['1.0.0.1', '1.0.0.2', '1.0.0.3', '1.0.0.4'];
    const searches = Array.from({ length: 40 }, (_, i) => `s${i}.example`);
    const dns = podDNSConfig(pod({ dnsPolicy: 'None', dnsConfig: { nameservers: servers, searches } }), cluster, '');
    expect(dns.nameservers).toEqual(['1.0.0.1', '1.0.0.2', '1.0.0.3']);
    expect(dns.searches).toHaveLength(32);
    expect(dns.searches[31]).toBe('s31.example');
  });
});

describe('hostname and /etc/hosts', () => {
  it('uses spec.hostname and the subdomain FQDN', () => {
    const p = pod({ hostname: 'db-1', subdomain: 'db' });
    expect(podHostnameAndDomain(p, 'cluster.local')).toEqual({ hostname: 'db-1', domain: 'db.shop.svc.cluster.local' });
    expect(hostsFileText(p, ['10.244.1.5'], 'cluster.local').split('\n').slice(-2)).toEqual(['10.244.1.5\tdb-1.db.shop.svc.cluster.local\tdb-1', '']);
  });

  it('cuts a long Pod name to 63 characters without a trailing dash', () => {
    const name = `${'a'.repeat(62)}-bcd`;
    expect(podHostnameAndDomain(pod({}, name), 'cluster.local').hostname).toBe('a'.repeat(62));
  });

  it('writes the kubelet header, localhost lines, the Pod line and host aliases', () => {
    const p = pod({ hostAliases: [{ ip: '192.0.2.9', hostnames: ['foo.local', 'bar.local'] }] });
    expect(hostsFileText(p, ['10.244.1.5'], 'cluster.local')).toBe(
      [
        '# Kubernetes-managed hosts file.',
        '127.0.0.1\tlocalhost',
        '::1\tlocalhost ip6-localhost ip6-loopback',
        'fe00::0\tip6-localnet',
        'fe00::0\tip6-mcastprefix',
        'fe00::1\tip6-allnodes',
        'fe00::2\tip6-allrouters',
        '10.244.1.5\tweb-0',
        '',
        '# Entries added by HostAliases.',
        '192.0.2.9\tfoo.local\tbar.local',
        '',
      ].join('\n'),
    );
  });
});
