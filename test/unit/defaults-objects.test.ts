import { describe, expect, it } from 'vitest';
import { applyDefaults } from '../../src/api/defaults.js';
import { resourceForKind, type ResourceType } from '../../src/api/resources.js';
import type { Deployment, EndpointSlice, KubeObject, Namespace, Pod, ReplicaSet, Secret, Service } from '../../src/api/types.js';

function res(apiVersion: string, kind: string): ResourceType {
  const r = resourceForKind(apiVersion, kind);
  if (!r) throw new Error(`no resource ${kind}`);
  return r;
}

function defaulted<T extends KubeObject>(obj: T): T {
  applyDefaults(res(obj.apiVersion, obj.kind), obj);
  return obj;
}

const svc = (spec: Service['spec']): Service => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: 'default' }, spec });
const pod = (spec: Pod['spec']): Pod => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' }, spec });

describe('Service defaults', () => {
  it('fills a minimal ClusterIP Service as the API server stores it', () => {
    const s = defaulted(svc({ selector: { app: 'web' }, ports: [{ port: 80 }] }));
    expect(s.spec).toEqual({
      selector: { app: 'web' },
      ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }],
      type: 'ClusterIP',
      sessionAffinity: 'None',
      internalTrafficPolicy: 'Cluster',
      ipFamilies: ['IPv4'],
      ipFamilyPolicy: 'SingleStack',
    });
  });

  it('keeps a named targetPort and an explicit protocol', () => {
    const s = defaulted(svc({ ports: [{ port: 53, protocol: 'UDP', targetPort: 'dns' }] }));
    expect(s.spec.ports).toEqual([{ port: 53, protocol: 'UDP', targetPort: 'dns' }]);
  });

  it('sets externalTrafficPolicy for NodePort and LoadBalancer, and allocateLoadBalancerNodePorts for LoadBalancer', () => {
    const np = defaulted(svc({ type: 'NodePort', ports: [{ port: 80 }] }));
    expect(np.spec.externalTrafficPolicy).toBe('Cluster');
    expect(np.spec.allocateLoadBalancerNodePorts).toBeUndefined();
    const lb = defaulted(svc({ type: 'LoadBalancer', ports: [{ port: 80 }] }));
    expect(lb.spec.externalTrafficPolicy).toBe('Cluster');
    expect(lb.spec.allocateLoadBalancerNodePorts).toBe(true);
    const cip = defaulted(svc({ ports: [{ port: 80 }] }));
    expect(cip.spec.externalTrafficPolicy).toBeUndefined();
  });

  it('gives ClientIP affinity a 10800 s timeout and drops the config for None', () => {
    const a = defaulted(svc({ sessionAffinity: 'ClientIP', ports: [{ port: 80 }] }));
    expect(a.spec.sessionAffinityConfig).toEqual({ clientIP: { timeoutSeconds: 10800 } });
    const keep = defaulted(svc({ sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } }));
    expect(keep.spec.sessionAffinityConfig?.clientIP?.timeoutSeconds).toBe(60);
    const none = defaulted(svc({ sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } }));
    expect(none.spec.sessionAffinityConfig).toBeUndefined();
  });

  it('leaves IP families and internalTrafficPolicy off ExternalName Services', () => {
    const s = defaulted(svc({ type: 'ExternalName', externalName: 'example.com' }));
    expect(s.spec.ipFamilies).toBeUndefined();
    expect(s.spec.ipFamilyPolicy).toBeUndefined();
    expect(s.spec.internalTrafficPolicy).toBeUndefined();
  });

  it('makes a selectorless headless Service RequireDualStack', () => {
    expect(defaulted(svc({ clusterIP: 'None' })).spec.ipFamilyPolicy).toBe('RequireDualStack');
    expect(defaulted(svc({ clusterIP: 'None', selector: { a: 'b' } })).spec.ipFamilyPolicy).toBe('SingleStack');
  });

  it('is idempotent', () => {
    const once = defaulted(svc({ type: 'LoadBalancer', sessionAffinity: 'ClientIP', ports: [{ port: 80 }] }));
    const snapshot = structuredClone(once);
    expect(defaulted(once)).toEqual(snapshot);
  });
});

describe('Pod defaults', () => {
  it('fills pod spec, container, port and probe defaults', () => {
    const p = defaulted(
      pod({
        containers: [
          {
            name: 'c',
            image: 'nginx',
            ports: [{ containerPort: 80 }],
            readinessProbe: { httpGet: { port: 80 } },
            livenessProbe: { tcpSocket: { port: 80 }, periodSeconds: 5 },
          },
        ],
      }),
    );
    expect(p.spec).toMatchObject({
      restartPolicy: 'Always',
      dnsPolicy: 'ClusterFirst',
      terminationGracePeriodSeconds: 30,
      schedulerName: 'default-scheduler',
      enableServiceLinks: true,
      securityContext: {},
    });
    const c = p.spec.containers[0];
    expect(c.imagePullPolicy).toBe('Always');
    expect(c.terminationMessagePath).toBe('/dev/termination-log');
    expect(c.terminationMessagePolicy).toBe('File');
    expect(c.ports).toEqual([{ containerPort: 80, protocol: 'TCP' }]);
    expect(c.readinessProbe).toEqual({
      httpGet: { port: 80, path: '/', scheme: 'HTTP' },
      timeoutSeconds: 1,
      periodSeconds: 10,
      successThreshold: 1,
      failureThreshold: 3,
    });
    expect(c.livenessProbe?.periodSeconds).toBe(5);
  });

  it('chooses imagePullPolicy from the tag', () => {
    const policy = (image: string) => defaulted(pod({ containers: [{ name: 'c', image }] })).spec.containers[0].imagePullPolicy;
    expect(policy('nginx:latest')).toBe('Always');
    expect(policy('registry:5000/nginx')).toBe('Always');
    expect(policy('nginx:1.27')).toBe('IfNotPresent');
    expect(policy('registry:5000/nginx:1.27')).toBe('IfNotPresent');
    expect(policy('nginx@sha256:abcd')).toBe('IfNotPresent');
  });

  it('keeps explicit values', () => {
    const p = defaulted(pod({ restartPolicy: 'Never', terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image: 'x', imagePullPolicy: 'Never' }] }));
    expect(p.spec.restartPolicy).toBe('Never');
    expect(p.spec.terminationGracePeriodSeconds).toBe(0);
    expect(p.spec.containers[0].imagePullPolicy).toBe('Never');
  });

  it('copies containerPort to hostPort on host-network Pods', () => {
    const p = defaulted(pod({ hostNetwork: true, containers: [{ name: 'c', image: 'x:1', ports: [{ containerPort: 53 }] }] }));
    expect(p.spec.containers[0].ports?.[0].hostPort).toBe(53);
  });
});

describe('workload defaults', () => {
  const template = { metadata: { labels: { app: 'w' } }, spec: { containers: [{ name: 'c', image: 'x:1' }] } };

  it('fills Deployment replicas, strategy, limits and the template pod spec (without enableServiceLinks)', () => {
    const d = defaulted<Deployment>({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'd', namespace: 'default' },
      spec: { selector: { matchLabels: { app: 'w' } }, template: structuredClone(template) },
    });
    expect(d.spec.replicas).toBe(1);
    expect(d.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } });
    expect(d.spec.revisionHistoryLimit).toBe(10);
    expect(d.spec.progressDeadlineSeconds).toBe(600);
    expect(d.spec.template.spec.restartPolicy).toBe('Always');
    expect(d.spec.template.spec.containers[0].imagePullPolicy).toBe('IfNotPresent');
    expect(d.spec.template.spec.enableServiceLinks).toBeUndefined();
  });

  it('adds no rollingUpdate to a Recreate Deployment and keeps replicas 0', () => {
    const d = defaulted<Deployment>({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'd' },
      spec: { replicas: 0, strategy: { type: 'Recreate' }, selector: {}, template: structuredClone(template) },
    });
    expect(d.spec.strategy).toEqual({ type: 'Recreate' });
    expect(d.spec.replicas).toBe(0);
  });

  it('fills ReplicaSet replicas and template', () => {
    const rs = defaulted<ReplicaSet>({
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'r' },
      spec: { selector: { matchLabels: { app: 'w' } }, template: structuredClone(template) },
    });
    expect(rs.spec.replicas).toBe(1);
    expect(rs.spec.template.spec.dnsPolicy).toBe('ClusterFirst');
  });
});

describe('other kinds', () => {
  it('defaults EndpointSlice port protocol and name', () => {
    const s = defaulted<EndpointSlice>({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'e' },
      addressType: 'IPv4',
      endpoints: [],
      ports: [{ port: 80 }, { name: 'dns', port: 53, protocol: 'UDP' }],
    });
    expect(s.ports).toEqual([
      { port: 80, name: '', protocol: 'TCP' },
      { name: 'dns', port: 53, protocol: 'UDP' },
    ]);
  });

  it('types a Secret Opaque and folds stringData into base64 data', () => {
    const s = defaulted<Secret>({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's' },
      data: { a: 'b2xk', keep: 'eA==' },
      stringData: { a: 'new', pw: 'häh' },
    });
    expect(s.type).toBe('Opaque');
    expect(s.stringData).toBeUndefined();
    expect(s.data).toEqual({ a: 'bmV3', keep: 'eA==', pw: 'aMOkaA==' });
  });

  it('gives a Namespace the kubernetes finalizer and phase Active', () => {
    const ns = defaulted<Namespace>({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n' } });
    expect(ns.spec).toEqual({ finalizers: ['kubernetes'] });
    expect(ns.status).toEqual({ phase: 'Active' });
    const terminating = defaulted<Namespace>({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n' }, spec: { finalizers: [] }, status: { phase: 'Terminating' } });
    expect(terminating.spec?.finalizers).toEqual([]);
    expect(terminating.status?.phase).toBe('Terminating');
  });
});
