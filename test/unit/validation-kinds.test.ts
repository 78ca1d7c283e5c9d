// EndpointSlice, Ingress, IngressClass, Secret, ConfigMap, Node, Namespace and shared metadata rules.
import { describe, expect, it } from 'vitest';
import type { ConfigMap, EndpointSlice, Ingress, IngressClass, Namespace, Node, Secret } from '../../src/api/types.js';
import { DNS1035_LABEL_MSG, DNS1123_LABEL_MSG, DNS1123_SUBDOMAIN_MSG, errorsOf, stored } from './validation-helpers.js';

const QUALIFIED_NAME_PART =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

describe('metadata', () => {
  const cm = (meta: ConfigMap['metadata']): ConfigMap => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default', ...meta } });

  it('checks label keys and values', () => {
    expect(errorsOf(cm({ labels: { 'bad key': 'v' } }))).toEqual([`metadata.labels: Invalid value: "bad key": ${QUALIFIED_NAME_PART}`]);
    expect(errorsOf(cm({ labels: { 'example.com/ok': 'x'.repeat(64) } }))).toEqual([
      `metadata.labels: Invalid value: "${'x'.repeat(64)}": must be no more than 63 characters`,
    ]);
    expect(errorsOf(cm({ labels: { '/x': 'v' } }))).toEqual(['metadata.labels: Invalid value: "/x": prefix part must be non-empty']);
  });

  it('checks annotation keys and their total size', () => {
    expect(errorsOf(cm({ annotations: { 'Example.com/Note': 'fine' } }))).toEqual([]);
    expect(errorsOf(cm({ annotations: { 'a/b/c': 'x' } }))[0]).toMatch(/^metadata\.annotations: Invalid value: "a\/b\/c": a qualified name must consist of/);
    expect(errorsOf(cm({ annotations: { big: 'x'.repeat(256 * 1024) } }))).toEqual(['metadata.annotations: Too long: must have at most 262144 bytes']);
  });

  it('checks generateName with its trailing dash allowed', () => {
    expect(errorsOf(cm({ name: 'web-abcde', generateName: 'web-' }))).toEqual([]);
    expect(errorsOf(cm({ name: 'webabcde', generateName: 'Web-' }))).toEqual([`metadata.generateName: Invalid value: "Web-": ${DNS1123_SUBDOMAIN_MSG}`]);
  });

  it('forbids a namespace on cluster-scoped kinds', () => {
    const ns: Namespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team', namespace: 'default' } };
    expect(errorsOf(ns)).toEqual(['metadata.namespace: Forbidden: not allowed on this type']);
  });
});

describe('Namespace and Node', () => {
  it('wants a DNS label for Namespace names', () => {
    const ns: Namespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team.a' } };
    expect(errorsOf(ns)).toEqual(['metadata.name: Invalid value: "team.a": must not contain dots']);
    ns.metadata.name = 'Team';
    expect(errorsOf(ns)).toEqual([`metadata.name: Invalid value: "Team": ${DNS1123_LABEL_MSG}`]);
  });

  it('wants a DNS subdomain for Node names and valid pod CIDRs set once', () => {
    const node: Node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'kemu-worker' }, spec: { podCIDRs: ['10.244.1.0/24'] } };
    expect(errorsOf(node)).toEqual([]);
    expect(errorsOf({ ...node, metadata: { name: 'Worker_1' } })).toEqual([`metadata.name: Invalid value: "Worker_1": ${DNS1123_SUBDOMAIN_MSG}`]);
    expect(errorsOf({ ...node, spec: { podCIDRs: ['10.244.1.0/33'] } })).toEqual([
      'spec.podCIDRs[0]: Invalid value: "10.244.1.0/33": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)',
    ]);
    const old = stored(node);
    expect(errorsOf({ ...node, spec: { podCIDRs: ['10.244.2.0/24'] } }, old)).toEqual([
      'spec.podCIDRs: Forbidden: node updates may not change podCIDR except from "" to valid',
    ]);
    const unset = stored({ ...node, spec: {} });
    expect(errorsOf(node, unset)).toEqual([]);
  });
});

describe('EndpointSlice validation', () => {
  function slice(over: Partial<EndpointSlice> = {}): EndpointSlice {
    return {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'web-abc', namespace: 'default' },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['10.244.1.5'], conditions: { ready: true }, nodeName: 'kemu-worker' }],
      ports: [{ name: 'http', port: 8080 }],
      ...over,
    };
  }

  it('accepts a valid slice', () => {
    expect(errorsOf(slice())).toEqual([]);
  });

  it('checks addressType values', () => {
    expect(errorsOf(slice({ addressType: 'IP' as 'IPv4' }))).toEqual(['addressType: Unsupported value: "IP": supported values: "FQDN", "IPv4", "IPv6"']);
  });

  it('checks addresses against the address type', () => {
    expect(errorsOf(slice({ endpoints: [{ addresses: ['fd00::1'] }] }))).toEqual(['endpoints[0].addresses[0]: Invalid value: "fd00::1": must be a valid IPv4 address']);
    expect(errorsOf(slice({ addressType: 'IPv6', endpoints: [{ addresses: ['fd00::1'] }] }))).toEqual([]);
    expect(errorsOf(slice({ endpoints: [{ addresses: ['127.0.0.1'] }] }))).toEqual([
      'endpoints[0].addresses[0]: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)',
    ]);
    expect(errorsOf(slice({ endpoints: [{ addresses: [] }] }))).toEqual(['endpoints[0].addresses: Required value: must contain at least 1 address']);
    expect(errorsOf(slice({ addressType: 'FQDN', endpoints: [{ addresses: ['example'] }] }))).toEqual([
      'endpoints[0].addresses[0]: Invalid value: "example": should be a domain with at least two segments separated by dots',
    ]);
  });

  it('allows at most 1000 endpoints', () => {
    const endpoints = Array.from({ length: 1001 }, (_, i) => ({ addresses: [`10.244.${Math.floor(i / 250)}.${(i % 250) + 1}`] }));
    expect(errorsOf(slice({ endpoints }))).toEqual(['endpoints: Too many: 1001: must have at most 1000 items']);
  });

  it('checks port names and protocols', () => {
    expect(errorsOf(slice({ ports: [{ name: 'http', port: 80 }, { name: 'http', port: 81 }] }))).toEqual(['ports[1].name: Duplicate value: "http"']);
    expect(errorsOf(slice({ ports: [{ name: 'HTTP', port: 80 }] }))).toEqual([`ports[0].name: Invalid value: "HTTP": ${DNS1123_LABEL_MSG}`]);
  });
});

describe('Ingress validation', () => {
  function ingress(spec: Ingress['spec']): Ingress {
    return { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'web', namespace: 'default' }, spec };
  }
  const backend = { service: { name: 'web', port: { number: 80 } } };
  const rule = (host: string | undefined, path: string, pathType = 'Prefix') => ({
    host,
    http: { paths: [{ path, pathType: pathType as 'Prefix', backend }] },
  });

  it('accepts hosts, wildcard hosts and a default backend', () => {
    expect(errorsOf(ingress({ rules: [rule('web.example.com', '/'), rule('*.example.com', '/api', 'Exact')] }))).toEqual([]);
    expect(errorsOf(ingress({ defaultBackend: backend }))).toEqual([]);
  });

  it('needs rules or a default backend', () => {
    expect(errorsOf(ingress({}))).toEqual(['spec: Invalid value: []networking.IngressRule(nil): either `defaultBackend` or `rules` must be specified']);
  });

  it('checks hosts', () => {
    expect(errorsOf(ingress({ rules: [rule('Web.example.com', '/')] }))).toEqual([`spec.rules[0].host: Invalid value: "Web.example.com": ${DNS1123_SUBDOMAIN_MSG}`]);
    expect(errorsOf(ingress({ rules: [rule('*', '/')] }))).toEqual([
      "spec.rules[0].host: Invalid value: \"*\": a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    ]);
    expect(errorsOf(ingress({ rules: [rule('10.0.0.1', '/')] }))).toEqual(['spec.rules[0].host: Invalid value: "10.0.0.1": must be a DNS name, not an IP address']);
  });

  it('checks paths and path types', () => {
    expect(errorsOf(ingress({ rules: [rule(undefined, 'api')] }))).toEqual(['spec.rules[0].http.paths[0].path: Invalid value: "api": must be an absolute path']);
    expect(errorsOf(ingress({ rules: [rule(undefined, 'api', 'ImplementationSpecific')] }))).toEqual([
      'spec.rules[0].http.paths[0].path: Invalid value: "api": must be an absolute path',
    ]);
    expect(errorsOf(ingress({ rules: [rule(undefined, '/a//b')] }))).toEqual(["spec.rules[0].http.paths[0].path: Invalid value: \"/a//b\": must not contain '//'"]);
    expect(errorsOf(ingress({ rules: [rule(undefined, '/', 'Regex')] }))).toEqual([
      'spec.rules[0].http.paths[0].pathType: Unsupported value: "Regex": supported values: "Exact", "ImplementationSpecific", "Prefix"',
    ]);
    const noType = ingress({ rules: [{ http: { paths: [{ path: '/', backend } as never] } }] });
    expect(errorsOf(noType)).toEqual(['spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified']);
  });

  it('wants exactly one of service and resource, and exactly one of port number and name', () => {
    const withBackend = (b: object) => ingress({ rules: [{ http: { paths: [{ path: '/', pathType: 'Prefix', backend: b }] } }] });
    const p = 'spec.rules[0].http.paths[0].backend';
    expect(errorsOf(withBackend({}))).toEqual([`${p}: Invalid value: "": resource or service backend is required`]);
    expect(errorsOf(withBackend({ ...backend, resource: { kind: 'Bucket', name: 'b' } }))).toEqual([`${p}: Invalid value: "": cannot set both resource and service backends`]);
    expect(errorsOf(withBackend({ service: { name: 'web', port: { number: 80, name: 'http' } } }))).toEqual([
      `${p}: Invalid value: "": cannot set both port name & port number`,
    ]);
    expect(errorsOf(withBackend({ service: { name: 'web', port: {} } }))).toEqual([`${p}: Required value: port name or number is required`]);
    expect(errorsOf(withBackend({ service: { name: '1web', port: { name: 'http' } } }))).toEqual([`${p}.service.name: Invalid value: "1web": ${DNS1035_LABEL_MSG}`]);
  });

  it('checks IngressClass controllers and keeps them immutable', () => {
    const ic: IngressClass = { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'kemu' }, spec: { controller: 'kemu.dev/ingress' } };
    expect(errorsOf(ic)).toEqual([]);
    expect(errorsOf({ ...ic, spec: { controller: 'ingress' } })).toEqual(['spec.controller: Invalid value: "ingress": must be a domain-prefixed path (such as "acme.io/foo")']);
    expect(errorsOf({ ...ic, spec: { controller: 'other.dev/x' } }, stored(ic))).toEqual(['spec.controller: Invalid value: "other.dev/x": field is immutable']);
  });
});

describe('Secret and ConfigMap validation', () => {
  const secret = (over: Partial<Secret>): Secret => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'default' }, ...over });

  it('wants tls.crt and tls.key in a TLS Secret', () => {
    expect(errorsOf(secret({ type: 'kubernetes.io/tls', data: { 'tls.crt': 'Y2VydA==' } }))).toEqual(['data[tls.key]: Required value']);
    expect(errorsOf(secret({ type: 'kubernetes.io/tls', stringData: { 'tls.crt': 'c', 'tls.key': 'k' } }))).toEqual([]);
  });

  it('checks data keys', () => {
    expect(errorsOf(secret({ data: { 'a b': 'eA==' } }))).toEqual([
      "data[a b]: Invalid value: \"a b\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
    ]);
    const cm: ConfigMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default' }, data: { '..data': 'x' } };
    expect(errorsOf(cm)).toEqual(["data[..data]: Invalid value: \"..data\": must not start with '..'"]);
  });

  it('freezes an immutable Secret and ConfigMap', () => {
    const old = stored(secret({ immutable: true, data: { a: 'eA==' } }));
    expect(errorsOf({ ...old, data: { a: 'eQ==' } }, old)).toEqual(['data: Forbidden: field is immutable when `immutable` is set']);
    expect(errorsOf({ ...old, type: 'kubernetes.io/tls' }, old)[0]).toBe('type: Invalid value: "kubernetes.io/tls": field is immutable');
    const cm: ConfigMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default' }, immutable: true, data: { a: '1' } };
    expect(errorsOf({ ...cm, immutable: false }, stored(cm))).toEqual(['immutable: Forbidden: field is immutable when `immutable` is set']);
  });
});
