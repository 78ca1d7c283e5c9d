// The DNS add-on objects kemu applies: kubeadm's Corefile (parsed by kemu's own parser and plugin
// registry), the coredns Deployment that runs the built-in coredns program, and the kube-dns Service.

import { describe, expect, it } from 'vitest';
import { defaultClusterConfig } from '../../src/api/cluster.js';
import type { ConfigMap, Deployment, Service } from '../../src/api/types.js';
import { dnsAddonObjects } from '../../src/dns/addon.js';
import { parseCorefile } from '../../src/dns/corefile/parse.js';
import { PLUGIN_ORDER } from '../../src/dns/plugins/registry.js';
import { resolveImage } from '../../src/workloads/images.js';

const config = { ...defaultClusterConfig('t'), dnsServiceIP: '10.100.0.10', clusterDomain: 'lab.example' };
const [cm, deploy, svc] = dnsAddonObjects(config, '/var/lib/kemu/t/api.sock') as [ConfigMap, Deployment, Service];

describe('DNS add-on objects', () => {
  it('a coredns ConfigMap whose Corefile is kubeadm\'s for the cluster domain', () => {
    expect(cm.metadata).toEqual({ name: 'coredns', namespace: 'kube-system' });
    const [block] = parseCorefile(cm.data!.Corefile!);
    expect(block!.keys).toEqual([{ zone: '.', port: 53 }]);
    expect(block!.directives.map((d) => d.name)).toEqual(['errors', 'health', 'ready', 'kubernetes', 'prometheus', 'forward', 'cache', 'loop', 'reload', 'loadbalance']);
    const known = new Set(PLUGIN_ORDER.map(([n]) => n));
    expect(block!.directives.every((d) => known.has(d.name))).toBe(true);
    const k8s = block!.directives.find((d) => d.name === 'kubernetes')!;
    expect(k8s.args).toEqual(['lab.example', 'in-addr.arpa', 'ip6.arpa']);
    expect(k8s.block.map((o) => [o.name, ...o.args].join(' '))).toEqual(['pods insecure', 'fallthrough in-addr.arpa ip6.arpa', 'ttl 30']);
    expect(block!.directives.find((d) => d.name === 'forward')!.args).toEqual(['.', '/etc/resolv.conf']);
  });

  it('a coredns Deployment: 2 replicas, the node resolv.conf, probes, ports, and the API socket', () => {
    expect(deploy.metadata).toMatchObject({ name: 'coredns', namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } });
    expect(deploy.spec.replicas).toBe(2);
    expect(deploy.spec.selector).toEqual({ matchLabels: { 'k8s-app': 'kube-dns' } });
    const pod = deploy.spec.template.spec;
    expect(pod.dnsPolicy).toBe('Default');
    const [c] = pod.containers;
    expect(c!.args).toEqual(['-conf', '/etc/coredns/Corefile']);
    expect(c!.env).toEqual([{ name: 'KEMU_API_SOCKET', value: '/var/lib/kemu/t/api.sock' }]);
    expect(c!.readinessProbe?.httpGet).toMatchObject({ path: '/ready', port: 8181 });
    expect(c!.livenessProbe?.httpGet).toMatchObject({ path: '/health', port: 8080 });
    expect(c!.ports?.map((p) => `${p.name} ${p.containerPort}/${p.protocol}`)).toEqual(['dns 53/UDP', 'dns-tcp 53/TCP', 'metrics 9153/TCP']);
    expect(resolveImage(c!.image!, c!.command, c!.args)).toEqual({ kind: 'builtin', program: 'coredns', args: ['-conf', '/etc/coredns/Corefile'] });
  });

  it('a kube-dns Service at the cluster DNS IP with the three ports', () => {
    expect(svc.metadata).toMatchObject({ name: 'kube-dns', namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns', 'kubernetes.io/name': 'CoreDNS' } });
    expect(svc.spec.clusterIP).toBe('10.100.0.10');
    expect(svc.spec.selector).toEqual({ 'k8s-app': 'kube-dns' });
    expect(svc.spec.ports?.map((p) => `${p.name} ${p.port}/${p.protocol}`)).toEqual(['dns 53/UDP', 'dns-tcp 53/TCP', 'metrics 9153/TCP']);
  });
});
