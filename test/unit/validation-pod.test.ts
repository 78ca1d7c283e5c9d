import { describe, expect, it } from 'vitest';
import type { Container, ContainerPort, Pod } from '../../src/api/types.js';
import { DNS1123_LABEL_MSG, DNS1123_SUBDOMAIN_MSG, errorsOf, stored } from './validation-helpers.js';

function pod(spec: Partial<Pod['spec']> = {}, containers: Container[] = [{ name: 'app', image: 'agnhost:2.39' }]): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-0', namespace: 'default' }, spec: { containers, ...spec } };
}

describe('Pod validation', () => {
  it('accepts a defaulted minimal Pod', () => {
    expect(errorsOf(pod())).toEqual([]);
  });

  it('requires name and namespace, with generateName as an alternative to name', () => {
    const p = pod();
    p.metadata = {};
    expect(errorsOf(p)).toEqual(['metadata.name: Required value: name or generateName is required', 'metadata.namespace: Required value']);
    p.metadata = { generateName: 'web-', namespace: 'default' };
    expect(errorsOf(p)).toEqual(['metadata.name: Required value: name or generateName is required']);
  });

  it('requires a DNS subdomain name', () => {
    const p = pod();
    p.metadata.name = 'Web_0';
    expect(errorsOf(p)).toEqual([`metadata.name: Invalid value: "Web_0": ${DNS1123_SUBDOMAIN_MSG}`]);
  });

  it('requires containers', () => {
    expect(errorsOf(pod({}, []))).toEqual(['spec.containers: Required value']);
  });

  it('requires unique DNS-label container names and an image', () => {
    expect(errorsOf(pod({}, [{ name: 'a', image: 'x:1' }, { name: 'a', image: 'x:1' }]))).toEqual(['spec.containers[1].name: Duplicate value: "a"']);
    expect(errorsOf(pod({}, [{ name: 'App', image: 'x:1' }]))).toEqual([`spec.containers[0].name: Invalid value: "App": ${DNS1123_LABEL_MSG}`]);
    expect(errorsOf(pod({}, [{ name: 'a' }]))).toEqual(['spec.containers[0].image: Required value']);
  });

  it('checks container ports and their names', () => {
    expect(errorsOf(pod({}, [{ name: 'a', image: 'x:1', ports: [{ containerPort: 70000 }] }]))).toEqual([
      'spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive',
    ]);
    expect(
      errorsOf(pod({}, [{ name: 'a', image: 'x:1', ports: [{ name: 'http', containerPort: 80 }, { name: 'http', containerPort: 81 }] }])),
    ).toEqual(['spec.containers[0].ports[1].name: Duplicate value: "http"']);
    expect(errorsOf(pod({}, [{ name: 'a', image: 'x:1', ports: [{ name: 'a-very-long-port-name', containerPort: 80 }] }]))).toEqual([
      'spec.containers[0].ports[0].name: Invalid value: "a-very-long-port-name": must be no more than 15 characters',
    ]);
  });

  it('checks hostPort range and rejects a protocol/hostIP/hostPort taken twice in the Pod', () => {
    expect(errorsOf(pod({}, [{ name: 'a', image: 'x:1', ports: [{ containerPort: 80, hostPort: 65536 }] }]))).toEqual([
      'spec.containers[0].ports[0].hostPort: Invalid value: 65536: must be between 1 and 65535, inclusive',
    ]);
    const web = (hostPort: number, more: Partial<ContainerPort> = {}): ContainerPort => ({ containerPort: 80, hostPort, ...more });
    expect(errorsOf(pod({}, [{ name: 'a', image: 'x:1', ports: [web(8080)] }, { name: 'b', image: 'x:1', ports: [web(8081), web(8080)] }]))).toEqual([
      'spec.containers[1].ports[1].hostPort: Duplicate value: "TCP//8080"',
    ]);
    // another protocol or hostIP is another port; init containers run alone, so they only clash with themselves
    expect(errorsOf(pod({}, [{ name: 'a', image: 'x:1', ports: [web(53), web(53, { protocol: 'UDP' }), web(53, { hostIP: '172.30.1.2' })] }]))).toEqual([]);
    expect(errorsOf(pod({ initContainers: [{ name: 'i', image: 'x:1', ports: [web(8080)] }] }, [{ name: 'a', image: 'x:1', ports: [web(8080)] }]))).toEqual([]);
  });

  it('wants exactly one probe handler', () => {
    expect(errorsOf(pod({}, [{ name: 'a', image: 'x:1', readinessProbe: {} }]))).toEqual([
      'spec.containers[0].readinessProbe: Required value: must specify a handler type',
    ]);
    expect(errorsOf(pod({}, [{ name: 'a', image: 'x:1', readinessProbe: { httpGet: { port: 80 }, tcpSocket: { port: 80 } } }]))).toEqual([
      'spec.containers[0].readinessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type',
    ]);
    expect(errorsOf(pod({}, [{ name: 'a', image: 'x:1', livenessProbe: { tcpSocket: { port: 0 } } }]))).toEqual([
      'spec.containers[0].livenessProbe.tcpSocket.port: Invalid value: 0: must be between 1 and 65535, inclusive',
    ]);
  });

  it('checks restartPolicy and dnsPolicy values', () => {
    expect(errorsOf(pod({ restartPolicy: 'Sometimes' as 'Always' }))).toEqual([
      'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
    ]);
    expect(errorsOf(pod({ dnsPolicy: 'Cluster' as 'ClusterFirst' }))).toEqual([
      'spec.dnsPolicy: Unsupported value: "Cluster": supported values: "ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"',
    ]);
  });

  it('requires dnsConfig nameservers with dnsPolicy None', () => {
    expect(errorsOf(pod({ dnsPolicy: 'None' }))).toEqual(['spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None']);
    expect(errorsOf(pod({ dnsPolicy: 'None', dnsConfig: { nameservers: [] } }))).toEqual([
      'spec.dnsConfig.nameservers: Required value: must provide at least one DNS nameserver when `dnsPolicy` is None',
    ]);
    expect(errorsOf(pod({ dnsPolicy: 'None', dnsConfig: { nameservers: ['1.1.1.1', '8.8.8.8', '9.9.9.9', '1.0.0.1'] } }))).toEqual([
      'spec.dnsConfig.nameservers: Invalid value: []string{"1.1.1.1", "8.8.8.8", "9.9.9.9", "1.0.0.1"}: must not have more than 3 nameservers',
    ]);
  });

  it('checks nodeName as a DNS subdomain', () => {
    expect(errorsOf(pod({ nodeName: 'Node_1' }))).toEqual([`spec.nodeName: Invalid value: "Node_1": ${DNS1123_SUBDOMAIN_MSG}`]);
  });

  it('lets an update change images only', () => {
    const old = stored(pod());
    const newImage = structuredClone(old);
    newImage.spec.containers[0].image = 'agnhost:2.40';
    expect(errorsOf(newImage, old)).toEqual([]);

    const moved = structuredClone(old);
    moved.spec.nodeName = 'kemu-worker';
    const errs = errorsOf(moved, old);
    expect(errs).toHaveLength(1);
    expect(errs[0]).toMatch(/^spec: Forbidden: pod updates may not change fields other than `spec.containers\[\*\].image`,/);
  });

  it('allows no new finalizers on a Pod being deleted', () => {
    const old = stored(pod());
    old.metadata.deletionTimestamp = '2024-01-01T00:00:00Z';
    const next = structuredClone(old);
    next.metadata.finalizers = ['example.com/hold'];
    expect(errorsOf(next, old)).toEqual([
      'metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{"example.com/hold"}',
    ]);
  });
});
