import { describe, expect, it } from 'vitest';
import type { ConfigMap, Pod, Secret, Service } from '../../src/api/types.js';
import { ContainerConfigError, containerEnv, expand, expandArgv, serviceEnvVars, servicesForPod } from '../../src/node/env.js';

function svc(namespace: string, name: string, clusterIP: string, ports: Service['spec']['ports']): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { namespace, name }, spec: { clusterIP, ports } };
}

const kubernetes = svc('default', 'kubernetes', '10.96.0.1', [{ name: 'https', port: 443, protocol: 'TCP' }]);
const web = svc('shop', 'my-web', '10.96.12.34', [
  { name: 'http', port: 80, protocol: 'TCP' },
  { name: 'dns-udp', port: 53, protocol: 'UDP' },
]);
const headless = svc('shop', 'db', 'None', [{ port: 5432 }]);
const other = svc('elsewhere', 'cache', '10.96.7.7', [{ port: 6379 }]);

function pod(extra: Partial<Pod['spec']> = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'shop', uid: 'u-1', labels: { app: 'x' } },
    spec: { nodeName: 'kemu-worker', containers: [{ name: 'c' }], ...extra },
    status: { podIP: '10.244.1.7', hostIP: '172.18.0.3' },
  };
}

describe('Service environment variables', () => {
  it('are those of the Pod namespace Services plus kubernetes, skipping headless ones', () => {
    expect(servicesForPod(pod(), [kubernetes, web, headless, other]).map((s) => s.metadata.name)).toEqual(['kubernetes', 'my-web']);
  });

  it('only kubernetes when enableServiceLinks is false', () => {
    expect(servicesForPod(pod({ enableServiceLinks: false }), [kubernetes, web]).map((s) => s.metadata.name)).toEqual(['kubernetes']);
  });

  it('follow the Docker link form the kubelet writes', () => {
    expect(serviceEnvVars([web])).toEqual([
      ['MY_WEB_SERVICE_HOST', '10.96.12.34'],
      ['MY_WEB_SERVICE_PORT', '80'],
      ['MY_WEB_SERVICE_PORT_HTTP', '80'],
      ['MY_WEB_SERVICE_PORT_DNS_UDP', '53'],
      ['MY_WEB_PORT', 'tcp://10.96.12.34:80'],
      ['MY_WEB_PORT_80_TCP', 'tcp://10.96.12.34:80'],
      ['MY_WEB_PORT_80_TCP_PROTO', 'tcp'],
      ['MY_WEB_PORT_80_TCP_PORT', '80'],
      ['MY_WEB_PORT_80_TCP_ADDR', '10.96.12.34'],
      ['MY_WEB_PORT_53_UDP', 'udp://10.96.12.34:53'],
      ['MY_WEB_PORT_53_UDP_PROTO', 'udp'],
      ['MY_WEB_PORT_53_UDP_PORT', '53'],
      ['MY_WEB_PORT_53_UDP_ADDR', '10.96.12.34'],
    ]);
  });
});

describe('$(VAR) expansion', () => {
  const vars: Record<string, string> = { A: 'one', B: 'two' };
  const lookup = (n: string) => vars[n];
  it('replaces defined names, keeps undefined ones, unescapes $$', () => {
    expect(expand('$(A)-$(B)', lookup)).toBe('one-two');
    expect(expand('$(C) stays', lookup)).toBe('$(C) stays');
    expect(expand('$$(A) is literal', lookup)).toBe('$(A) is literal');
    expect(expand('price $5 $(A', lookup)).toBe('price $5 $(A');
  });
});

describe('container env', () => {
  const cm: ConfigMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: 'shop' }, data: { mode: 'fast', level: 'debug' } };
  const secret: Secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds', namespace: 'shop' }, data: { password: Buffer.from('s3cret').toString('base64') } };
  const sources = (p: Pod) => ({ pod: p, services: [kubernetes, web], configMap: (n: string) => (n === 'cfg' ? cm : undefined), secret: (n: string) => (n === 'creds' ? secret : undefined) });

  it('resolves fieldRef, configMapKeyRef, secretKeyRef, envFrom and expands against earlier values and Service variables', () => {
    const p = pod();
    p.spec.containers[0] = {
      name: 'c',
      envFrom: [{ configMapRef: { name: 'cfg' }, prefix: 'CFG_' }],
      env: [
        { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
        { name: 'HOST_IP', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
        { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
        { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'mode' } } },
        { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
        { name: 'URL', value: 'http://$(MY_WEB_SERVICE_HOST):$(MY_WEB_SERVICE_PORT)/$(POD_NAME)' },
        { name: 'MY_WEB_SERVICE_PORT', value: '8080' },
      ],
    };
    const env = new Map(containerEnv(p.spec.containers[0], sources(p)));
    expect(env.get('CFG_mode')).toBe('fast');
    expect(env.get('POD_NAME')).toBe('p');
    expect(env.get('POD_IP')).toBe('10.244.1.7');
    expect(env.get('NODE')).toBe('kemu-worker');
    expect(env.get('HOST_IP')).toBe('172.18.0.3');
    expect(env.get('APP')).toBe('x');
    expect(env.get('MODE')).toBe('fast');
    expect(env.get('PASSWORD')).toBe('s3cret');
    // expanded before the container's own MY_WEB_SERVICE_PORT was set, against the Service variable
    expect(env.get('URL')).toBe('http://10.96.12.34:80/p');
    // the container's value wins over the Service variable
    expect(env.get('MY_WEB_SERVICE_PORT')).toBe('8080');
    expect(env.get('KUBERNETES_SERVICE_HOST')).toBe('10.96.0.1');
  });

  it('fails with the kubelet wording for a missing ConfigMap or key; optional refs are skipped', () => {
    const missing = (valueFrom: Record<string, unknown>) => () => containerEnv({ name: 'c', env: [{ name: 'X', valueFrom }] }, sources(pod()));
    expect(missing({ configMapKeyRef: { name: 'nope', key: 'k' } })).toThrow(new ContainerConfigError('configmap "nope" not found'));
    expect(missing({ configMapKeyRef: { name: 'cfg', key: 'k' } })).toThrow("couldn't find key k in ConfigMap shop/cfg");
    expect(missing({ secretKeyRef: { name: 'nope', key: 'k' } })).toThrow('secret "nope" not found');
    const optional = containerEnv({ name: 'c', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'nope', key: 'k', optional: true } } }] }, sources(pod()));
    expect(new Map(optional).has('X')).toBe(false);
  });

  it('expands command and args from the environment', () => {
    expect(expandArgv(['echo', '$(MSG)', '$$(MSG)'], [['MSG', 'hi']])).toEqual(['echo', 'hi', '$(MSG)']);
  });
});
