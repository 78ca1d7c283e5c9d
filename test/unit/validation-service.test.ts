import { describe, expect, it } from 'vitest';
import { applyDefaults } from '../../src/api/defaults.js';
import { prepareServiceUpdate } from '../../src/api/registry/service-allocation.js';
import { resourceForKind } from '../../src/api/resources.js';
import type { Service } from '../../src/api/types.js';
import { DNS1035_LABEL_MSG, DNS1123_SUBDOMAIN_MSG, errorsOf, stored } from './validation-helpers.js';

function svc(spec: Partial<Service['spec']> = {}, name = 'web'): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'default' },
    spec: { selector: { app: 'web' }, ports: [{ port: 80 }], ...spec },
  };
}

describe('Service validation', () => {
  it('accepts a plain ClusterIP, NodePort, LoadBalancer, headless and ExternalName Service', () => {
    expect(errorsOf(svc())).toEqual([]);
    expect(errorsOf(svc({ type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] }))).toEqual([]);
    expect(errorsOf(svc({ type: 'LoadBalancer', externalTrafficPolicy: 'Local' }))).toEqual([]);
    expect(errorsOf(svc({ clusterIP: 'None', ports: [] }))).toEqual([]);
    expect(errorsOf(svc({ type: 'ExternalName', externalName: 'example.com.', ports: [] }))).toEqual([]);
  });

  it('requires a DNS-1035 label name', () => {
    expect(errorsOf(svc({}, '1web'))).toEqual([`metadata.name: Invalid value: "1web": ${DNS1035_LABEL_MSG}`]);
  });

  it('requires ports unless headless or ExternalName', () => {
    expect(errorsOf(svc({ ports: [] }))).toEqual(['spec.ports: Required value']);
  });

  it('checks the port range', () => {
    expect(errorsOf(svc({ ports: [{ port: 0 }] }))).toContain('spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive');
    expect(errorsOf(svc({ ports: [{ port: 65536, targetPort: 80 }] }))).toEqual([
      'spec.ports[0].port: Invalid value: 65536: must be between 1 and 65535, inclusive',
    ]);
  });

  it('checks targetPort as a number or an IANA service name', () => {
    expect(errorsOf(svc({ ports: [{ port: 80, targetPort: 70000 }] }))).toEqual([
      'spec.ports[0].targetPort: Invalid value: 70000: must be between 1 and 65535, inclusive',
    ]);
    expect(errorsOf(svc({ ports: [{ port: 80, targetPort: 'http_web' }] }))).toEqual([
      'spec.ports[0].targetPort: Invalid value: "http_web": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
    ]);
    expect(errorsOf(svc({ ports: [{ port: 80, targetPort: '8080' }] }))).toEqual([
      'spec.ports[0].targetPort: Invalid value: "8080": must contain at least one letter (a-z)',
    ]);
  });

  it('requires unique names on every port of a multi-port Service', () => {
    expect(errorsOf(svc({ ports: [{ port: 80 }, { port: 443 }] }))).toEqual(['spec.ports[0].name: Required value', 'spec.ports[1].name: Required value']);
    expect(errorsOf(svc({ ports: [{ name: 'a', port: 80 }, { name: 'a', port: 443 }] }))).toEqual(['spec.ports[1].name: Duplicate value: "a"']);
  });

  it('rejects a duplicate port+protocol with the core.ServicePort rendering', () => {
    expect(errorsOf(svc({ ports: [{ name: 'a', port: 80 }, { name: 'b', port: 80, targetPort: 81 }] }))).toEqual([
      'spec.ports[1]: Duplicate value: core.ServicePort{Name:"", Protocol:"TCP", AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}',
    ]);
    expect(errorsOf(svc({ ports: [{ name: 'a', port: 53 }, { name: 'b', port: 53, protocol: 'UDP' }] }))).toEqual([]);
  });

  it('rejects an unsupported protocol', () => {
    expect(errorsOf(svc({ ports: [{ port: 80, protocol: 'ICMP' as 'TCP' }] }))).toEqual([
      'spec.ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"',
    ]);
  });

  it('forbids nodePort on ClusterIP Services and duplicate nodePorts', () => {
    expect(errorsOf(svc({ ports: [{ port: 80, nodePort: 30001 }] }))).toEqual([
      "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'",
    ]);
    expect(
      errorsOf(svc({ type: 'NodePort', ports: [{ name: 'a', port: 80, nodePort: 30001 }, { name: 'b', port: 81, nodePort: 30001 }] })),
    ).toEqual(['spec.ports[1].nodePort: Duplicate value: 30001']);
  });

  it('rejects an unknown type', () => {
    expect(errorsOf(svc({ type: 'Magic' as 'NodePort' }))).toEqual([
      'spec.type: Unsupported value: "Magic": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"',
    ]);
  });

  it("accepts clusterIP 'None' or an IP, nothing else", () => {
    expect(errorsOf(svc({ clusterIP: '10.96.0.300' }))).toEqual([
      'spec.clusterIPs[0]: Invalid value: "10.96.0.300": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
    ]);
    expect(errorsOf(svc({ clusterIP: '10.96.0.1', clusterIPs: ['10.96.0.2'] }))).toEqual([
      'spec.clusterIPs: Invalid value: []string{"10.96.0.2"}: first value must match `clusterIP`',
    ]);
  });

  it("forbids headless NodePort Services", () => {
    expect(errorsOf(svc({ type: 'NodePort', clusterIP: 'None' }))).toEqual([
      `spec.clusterIP: Invalid value: "None": may not be set to 'None' for NodePort services`,
    ]);
  });

  it('requires externalName as a DNS subdomain for ExternalName Services', () => {
    expect(errorsOf(svc({ type: 'ExternalName', ports: [] }))).toEqual(['spec.externalName: Required value']);
    expect(errorsOf(svc({ type: 'ExternalName', externalName: 'Example.com' }))).toEqual([
      `spec.externalName: Invalid value: "Example.com": ${DNS1123_SUBDOMAIN_MSG}`,
    ]);
    expect(errorsOf(svc({ type: 'ExternalName', externalName: 'example.com', clusterIP: '10.96.0.5' }))).toEqual([
      'spec.clusterIPs: Forbidden: may not be set for ExternalName services',
    ]);
  });

  it('checks sessionAffinity values and the ClientIP timeout', () => {
    expect(errorsOf(svc({ sessionAffinity: 'Sticky' as 'None' }))).toEqual([
      'spec.sessionAffinity: Unsupported value: "Sticky": supported values: "ClientIP", "None"',
    ]);
    expect(errorsOf(svc({ sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 86401 } } }))).toEqual([
      'spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 86401: must be greater than 0 and less than 86400',
    ]);
    expect(errorsOf(svc({ sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 0 } } }))).toHaveLength(1);
  });

  it('allows externalTrafficPolicy only on externally reachable Services', () => {
    expect(errorsOf(svc({ externalTrafficPolicy: 'Local' }))).toEqual([
      'spec.externalTrafficPolicy: Invalid value: "Local": may only be set for externally-accessible services',
    ]);
    expect(errorsOf(svc({ type: 'NodePort', externalTrafficPolicy: 'Nearest' as 'Local' }))).toEqual([
      'spec.externalTrafficPolicy: Unsupported value: "Nearest": supported values: "Cluster", "Local"',
    ]);
  });

  it('allows healthCheckNodePort only for LoadBalancer with Local traffic policy', () => {
    expect(errorsOf(svc({ type: 'NodePort', healthCheckNodePort: 30500 }))).toEqual([
      "spec.healthCheckNodePort: Invalid value: 30500: may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'",
    ]);
  });

  it('validates selector labels', () => {
    expect(errorsOf(svc({ selector: { app: 'web!' } }))).toEqual([
      "spec.selector: Invalid value: \"web!\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
    ]);
  });

  it('rejects special externalIPs', () => {
    expect(errorsOf(svc({ externalIPs: ['127.0.0.1'] }))).toEqual([
      'spec.externalIPs[0]: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)',
    ]);
  });

  it('keeps the ClusterIP immutable on update', () => {
    const old = stored(svc({ clusterIP: '10.96.0.5' }));
    expect(errorsOf(svc({ clusterIP: '10.96.0.6' }), old)).toEqual(['spec.clusterIPs[0]: Invalid value: []string{"10.96.0.6"}: may not change once set']);
    expect(errorsOf(svc({ clusterIP: '10.96.0.5', ports: [{ port: 8080 }] }), old)).toEqual([]);
  });

  it('allows the ClusterIP to go when the type becomes ExternalName', () => {
    const old = stored(svc({ clusterIP: '10.96.0.5' }));
    const next: Service = { ...svc({ type: 'ExternalName', externalName: 'example.com', ports: [] }) };
    expect(errorsOf(next, old)).toEqual([]);
  });

  it('accepts updates that omit allocated values or change the type, once prepared as the registry does', () => {
    const old = stored(svc({ type: 'NodePort', clusterIP: '10.96.0.5', ports: [{ port: 80, nodePort: 30080 }] }));
    const put = svc({ type: 'NodePort' }); // a replace without clusterIP and nodePort
    applyDefaults(resourceForKind('v1', 'Service')!, put);
    expect(errorsOf(put, old)).toEqual(['spec.clusterIPs[0]: Invalid value: []string{}: primary clusterIP can not be unset']);
    prepareServiceUpdate(put, old);
    expect(errorsOf(put, old)).toEqual([]);
    expect(put.spec.ports?.[0].nodePort).toBe(30080);

    const toClusterIP = structuredClone(old);
    toClusterIP.spec.type = 'ClusterIP';
    expect(errorsOf(toClusterIP, old)).toContain("spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'");
    prepareServiceUpdate(toClusterIP, old);
    expect(errorsOf(toClusterIP, old)).toEqual([]);
  });

  it('keeps name and namespace immutable on update', () => {
    const old = stored(svc());
    expect(errorsOf(svc({}, 'other'), old)).toEqual(['metadata.name: Invalid value: "other": field is immutable']);
  });
});
