// The k3s-style Service load balancer: LoadBalancer Services show the Ready nodes' InternalIPs.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESOURCES } from '../../src/api/resources.js';
import type { Node, Service } from '../../src/api/types.js';
import { desiredLoadBalancerIngress, startServiceLoadBalancerController } from '../../src/controllers/service-lb.js';
import { ApiFixture, until } from './support/api-fixture.js';

const SERVICES = RESOURCES.find((r) => r.kind === 'Service')!;
const NODES = RESOURCES.find((r) => r.kind === 'Node')!;

function node(name: string, ip: string, ready: boolean): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name },
    status: { addresses: [{ type: 'InternalIP', address: ip }], conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  };
}

function service(name: string, type: Service['spec']['type']): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { type, selector: { app: name }, ports: [{ port: 80 }] } };
}

describe('desiredLoadBalancerIngress', () => {
  it('lists the Ready nodes InternalIPs, sorted, for LoadBalancer Services only', () => {
    const nodes = [node('b', '172.18.0.3', true), node('a', '172.18.0.2', true), node('c', '172.18.0.4', false)];
    expect(desiredLoadBalancerIngress(service('web', 'LoadBalancer'), nodes)).toEqual([
      { ip: '172.18.0.2', ipMode: 'VIP' },
      { ip: '172.18.0.3', ipMode: 'VIP' },
    ]);
    expect(desiredLoadBalancerIngress(service('web', 'NodePort'), nodes)).toEqual([]);
    expect(desiredLoadBalancerIngress(service('web', 'ClusterIP'), nodes)).toEqual([]);
  });
});

describe('service load balancer against a real API server', () => {
  let api: ApiFixture;
  let controller: { stop(): Promise<void> };

  beforeAll(async () => {
    api = await ApiFixture.start();
    for (const [name, ip] of [['n1', '172.18.0.2'], ['n2', '172.18.0.3']] as const) {
      await api.client.create(NODES, undefined, node(name, ip, false));
      await api.client.patchStatus(NODES, undefined, name, { status: { conditions: [{ type: 'Ready', status: 'True' }] } });
    }
    controller = await startServiceLoadBalancerController(api.client, () => {});
  });

  afterAll(async () => {
    await controller?.stop();
    await api?.close();
  });

  const ingressCount = (n: number) =>
    until(`${n} ingress IPs`, async () => {
      const svc = await api.client.get<Service>(SERVICES, 'default', 'web');
      const ips = (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip);
      return ips.length === n ? ips : undefined;
    });

  it('writes the nodes into status, follows a node leaving, and clears status when the type changes', async () => {
    await api.client.create(SERVICES, 'default', service('web', 'LoadBalancer'));
    expect(await ingressCount(2)).toEqual(['172.18.0.2', '172.18.0.3']);

    await api.client.patchStatus(NODES, undefined, 'n2', { status: { conditions: [{ type: 'Ready', status: 'False' }] } });
    expect(await ingressCount(1)).toEqual(['172.18.0.2']);

    await api.client.patch(SERVICES, 'default', 'web', { spec: { type: 'ClusterIP' } });
    expect(await ingressCount(0)).toEqual([]);
  });
});
