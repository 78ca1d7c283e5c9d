// The controllers against a real API server on a Unix socket: fake Ready Nodes, a fake kubelet in
// the test (it gives bound Pods an IP, marks them Ready when told to, and finishes graceful
// deletions), and checks of what an observer of the API sees at every step.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultClusterConfig, underlayGatewayIP } from '../../src/api/cluster.js';
import type { HttpClient } from '../../src/api/http-client.js';
import type { Deployment, EndpointSlice, Node, Pod, ReplicaSet } from '../../src/api/types.js';
import { DEPLOYMENTS, ENDPOINT_SLICES, NODES, PODS, REPLICA_SETS, SERVICES } from '../../src/controllers/kinds.js';
import { startControllers, type RunningControllers } from '../../src/controllers/manager.js';
import { ApiFixture, until } from './support/api-fixture.js';

const NODE_NAMES = ['kemu-control-plane', 'kemu-worker', 'kemu-worker2'];
const config = defaultClusterConfig('itest');
let api: ApiFixture;
let client: HttpClient;
let controllers: RunningControllers;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const isReady = (p: Pod) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
const live = (pods: Pod[]) => pods.filter((p) => !p.metadata.deletionTimestamp);

async function pods(selector = 'app=web'): Promise<Pod[]> {
  return (await client.list<Pod>(PODS, 'default', { labelSelector: selector })).items;
}

let ipCounter = 10;
/**
 * One kubelet pass: bound Pods without an IP get one and Running; up to readyBudget of them become
 * Ready (all when undefined); Pods being deleted gracefully are finished.
 */
async function kubelet(readyBudget?: number): Promise<void> {
  let budget = readyBudget ?? Infinity;
  for (const p of await pods('')) {
    const name = p.metadata.name ?? '';
    if (p.metadata.deletionTimestamp) {
      await client.delete(PODS, 'default', name, { gracePeriodSeconds: 0 }).catch(() => undefined);
      continue;
    }
    if (!p.spec.nodeName) continue;
    const status: Pod['status'] = {};
    if (!p.status?.podIP) Object.assign(status, { phase: 'Running', podIP: `10.244.${NODE_NAMES.indexOf(p.spec.nodeName)}.${ipCounter++}` });
    if (!isReady(p) && budget > 0 && !p.metadata.labels?.['test/never-ready']) {
      budget--;
      const others = (p.status?.conditions ?? []).filter((c) => c.type !== 'Ready');
      status.conditions = [...others, { type: 'Ready', status: 'True', lastTransitionTime: new Date().toISOString() }];
    }
    if (Object.keys(status).length > 0) await client.patchStatus(PODS, 'default', name, { status }).catch(() => undefined);
  }
}

function webDeployment(replicas: number): Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'web', image: 'nginx:1', ports: [{ name: 'http', containerPort: 8080 }] }] },
      },
    },
  };
}

async function waitForReadyPods(n: number): Promise<Pod[]> {
  return until(`${n} ready pods`, async () => {
    await kubelet();
    const ps = live(await pods());
    const d = await client.get<Deployment>(DEPLOYMENTS, 'default', 'web');
    const done = ps.length === n && ps.every(isReady) && d.status?.availableReplicas === n && d.status.replicas === n;
    return done && ps;
  });
}

beforeAll(async () => {
  api = await ApiFixture.start({ config });
  client = api.client;
  for (const name of NODE_NAMES) {
    await client.create<Node>(NODES, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name } } });
    await client.patchStatus(NODES, undefined, name, { status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }] } });
  }
  controllers = await startControllers(client, config, { resyncMs: 2000 });
});

afterAll(async () => {
  await controllers?.stop();
  await api?.close();
});

describe('controllers against a real API server', () => {
  it('keeps the kubernetes EndpointSlice', async () => {
    const slice = await until('kubernetes slice', () => client.get<EndpointSlice>(ENDPOINT_SLICES, 'default', 'kubernetes').catch(() => undefined));
    expect(slice.endpoints[0].addresses).toEqual([underlayGatewayIP(config)]);
    expect(slice.ports).toEqual([{ name: 'https', port: 6443, protocol: 'TCP' }]);
  });

  it('runs a Deployment of 3 as 3 Pods spread over the 3 nodes', async () => {
    await client.create(DEPLOYMENTS, 'default', webDeployment(3));
    const ps = await waitForReadyPods(3);
    expect(new Set(ps.map((p) => p.spec.nodeName))).toEqual(new Set(NODE_NAMES));
    const rss = (await client.list<ReplicaSet>(REPLICA_SETS, 'default')).items;
    expect(rss).toHaveLength(1);
    expect(ps.every((p) => p.metadata.name?.startsWith(`${rss[0].metadata.name}-`))).toBe(true);
    const d = await client.get<Deployment>(DEPLOYMENTS, 'default', 'web');
    expect(d.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('1');
    expect(d.status?.conditions?.find((c) => c.type === 'Available')?.status).toBe('True');
  });

  it('scales to 5 and then to 1', async () => {
    await client.patch(DEPLOYMENTS, 'default', 'web', { spec: { replicas: 5 } });
    await waitForReadyPods(5);
    await client.patch(DEPLOYMENTS, 'default', 'web', { spec: { replicas: 1 } });
    await waitForReadyPods(1);
    await client.patch(DEPLOYMENTS, 'default', 'web', { spec: { replicas: 3 } });
    await waitForReadyPods(3);
  });

  it('rolls a template change out within maxSurge=1, maxUnavailable=0 at every observed step', async () => {
    await client.patch(DEPLOYMENTS, 'default', 'web', { spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx:2', ports: [{ name: 'http', containerPort: 8080 }] }] } } } });
    const observed: string[] = [];
    await until(
      'rollout',
      async () => {
        const ps = live(await pods());
        const rss = (await client.list<ReplicaSet>(REPLICA_SETS, 'default')).items;
        const specTotal = rss.reduce((n, rs) => n + (rs.spec.replicas ?? 0), 0);
        observed.push(`${ps.length}/${ps.filter(isReady).length}/${specTotal}`);
        expect(specTotal).toBeLessThanOrEqual(4);
        expect(ps.length).toBeLessThanOrEqual(4);
        expect(ps.filter(isReady).length).toBeGreaterThanOrEqual(3);
        const d = await client.get<Deployment>(DEPLOYMENTS, 'default', 'web');
        const images = new Set(ps.map((p) => p.spec.containers[0].image));
        const done = d.status?.updatedReplicas === 3 && d.status.availableReplicas === 3 && d.status.replicas === 3 && images.size === 1 && images.has('nginx:2');
        if (!done) await kubelet(1); // one Pod becomes Ready per pass, so intermediate states are visible
        return done && ps.length === 3;
      },
      20_000,
    );
    expect(observed.length).toBeGreaterThan(3);
    const d = await client.get<Deployment>(DEPLOYMENTS, 'default', 'web');
    expect(d.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('2');
    const rss = (await client.list<ReplicaSet>(REPLICA_SETS, 'default')).items;
    expect(rss.map((rs) => rs.spec.replicas).sort()).toEqual([0, 3]);
  });

  it('keeps EndpointSlices in step with Pod readiness and termination', async () => {
    await client.create(SERVICES, 'default', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'default' },
      spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] },
    });
    const slicesOf = async () => (await client.list<EndpointSlice>(ENDPOINT_SLICES, 'default', { labelSelector: 'kubernetes.io/service-name=web' })).items;
    const endpoints = async () => (await slicesOf()).flatMap((s) => s.endpoints);
    await until('3 ready endpoints', async () => {
      await kubelet(); // finishes the old Pods the rollout left terminating
      const eps = await endpoints();
      return eps.length === 3 && eps.every((e) => e.conditions?.ready);
    });
    const [slice] = await slicesOf();
    expect(slice.metadata.name).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(slice.ports).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }]);

    const [victim, unready] = live(await pods());
    await client.patch(PODS, 'default', unready.metadata.name ?? '', { metadata: { labels: { 'test/never-ready': 'true' } } });
    await client.patchStatus(PODS, 'default', unready.metadata.name ?? '', { status: { conditions: [{ type: 'Ready', status: 'False' }] } });
    await until('unready endpoint', async () => {
      const ep = (await endpoints()).find((e) => e.targetRef?.name === unready.metadata.name);
      return ep?.conditions?.ready === false && ep.conditions.serving === false;
    });

    await client.delete(PODS, 'default', victim.metadata.name ?? '');
    await until('terminating endpoint', async () => {
      const ep = (await endpoints()).find((e) => e.targetRef?.name === victim.metadata.name);
      return ep?.conditions?.terminating === true && ep.conditions.ready === false && ep.conditions.serving === true;
    });
    await until('endpoint gone and replaced', async () => {
      await kubelet();
      const eps = await endpoints();
      return !eps.some((e) => e.targetRef?.name === victim.metadata.name) && eps.filter((e) => e.conditions?.ready).length === 2 && eps.length === 3;
    });
    expect((await slicesOf()).map((s) => s.metadata.name)).toEqual([slice.metadata.name]); // updated in place
  });

  it('creates no duplicate Pods across a controller restart', async () => {
    const before = live(await pods()).map((p) => p.metadata.name).sort();
    await controllers.stop();
    controllers = await startControllers(client, config, { resyncMs: 2000 });
    await sleep(1000);
    expect(live(await pods()).map((p) => p.metadata.name).sort()).toEqual(before);

    // A change made while the controllers are down is picked up exactly once.
    await controllers.stop();
    await client.patch(DEPLOYMENTS, 'default', 'web', { spec: { replicas: 5 } });
    controllers = await startControllers(client, config, { resyncMs: 2000 });
    await until('5 pods', async () => {
      await kubelet();
      return live(await pods()).length === 5;
    });
    await sleep(500);
    expect(live(await pods())).toHaveLength(5);
  });

  it('deletes the ReplicaSets and Pods of a deleted Deployment', async () => {
    await client.delete(DEPLOYMENTS, 'default', 'web');
    await until('cascade', async () => {
      await kubelet();
      const rss = (await client.list<ReplicaSet>(REPLICA_SETS, 'default')).items;
      return rss.length === 0 && (await pods()).length === 0;
    });
  });
});
