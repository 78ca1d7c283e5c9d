import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CM, configMap, PODS, pod, SVCS, startTestServer, type TestServer } from './apiserver-harness.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.stop();
});

const binding = (name: string, node: string): object => ({ apiVersion: 'v1', kind: 'Binding', metadata: { name }, target: { kind: 'Node', name: node } });

describe('apiserver pod binding', () => {
  it('binds once, sets nodeName and PodScheduled=True', async () => {
    await t.call('POST', PODS, pod('b1'));
    const res = await t.call('POST', `${PODS}/b1/binding`, binding('b1', 'worker'));
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ kind: 'Status', status: 'Success' });
    const p = (await t.call('GET', `${PODS}/b1`)).body;
    expect(p.spec.nodeName).toBe('worker');
    expect(p.status.conditions).toContainEqual(expect.objectContaining({ type: 'PodScheduled', status: 'True' }));
    const again = await t.call('POST', `${PODS}/b1/binding`, binding('b1', 'worker2'));
    expect(again.status).toBe(409);
    expect(again.body.message).toBe('Operation cannot be fulfilled on pods "b1": pod b1 is already assigned to node "worker"');
  });

  it('sets spec.nodeName straight in storage, where a Pod update may not', async () => {
    const created = (await t.call('POST', PODS, pod('b3'))).body;
    const viaUpdate = await t.call('PUT', `${PODS}/b3`, { ...created, spec: { ...created.spec, nodeName: 'worker' } });
    expect(viaUpdate.status).toBe(422);
    expect(viaUpdate.body.message).toContain('spec: Forbidden: pod updates may not change fields other than');
    const bound = await t.call('POST', `${PODS}/b3/binding`, binding('b3', 'worker'));
    expect(bound.status).toBe(201);
    const p = (await t.call('GET', `${PODS}/b3`)).body;
    expect(p.spec.nodeName).toBe('worker');
    // the pod strategy does not run: no generation bump, as upstream's BindingREST
    expect(p.metadata.generation).toBe(created.metadata.generation);
    expect(Number(p.metadata.resourceVersion)).toBeGreaterThan(Number(created.metadata.resourceVersion));
  });

  it('rejects a binding whose name differs from the URL', async () => {
    await t.call('POST', PODS, pod('b2'));
    const res = await t.call('POST', `${PODS}/b2/binding`, binding('other', 'worker'));
    expect(res.status).toBe(400);
  });
});

describe('apiserver graceful deletion and finalizers', () => {
  it('marks a bound pod for deletion and removes it on a delete with grace 0', async () => {
    await t.call('POST', PODS, pod('g1', { spec: { terminationGracePeriodSeconds: 20 } }));
    await t.call('POST', `${PODS}/g1/binding`, binding('g1', 'worker'));
    const before = Date.now();
    const first = await t.call('DELETE', `${PODS}/g1`);
    expect(first.status).toBe(200);
    expect(first.body.metadata.deletionGracePeriodSeconds).toBe(20);
    const due = Date.parse(first.body.metadata.deletionTimestamp);
    expect(due).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 19_000);
    expect(due).toBeLessThanOrEqual(Date.now() + 21_000);
    expect((await t.call('GET', `${PODS}/g1`)).status).toBe(200);
    const rebind = await t.call('POST', `${PODS}/g1/binding`, binding('g1', 'worker'));
    expect(rebind.status).toBe(409);
    const shortened = await t.call('DELETE', `${PODS}/g1`, { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 5 });
    expect(shortened.body.metadata.deletionGracePeriodSeconds).toBe(5);
    const final = await t.call('DELETE', `${PODS}/g1?gracePeriodSeconds=0`);
    expect(final.status).toBe(200);
    expect((await t.call('GET', `${PODS}/g1`)).status).toBe(404);
  });

  it('removes an unbound pod at once', async () => {
    await t.call('POST', PODS, pod('g2'));
    expect((await t.call('DELETE', `${PODS}/g2`)).status).toBe(200);
    expect((await t.call('GET', `${PODS}/g2`)).status).toBe(404);
  });

  it('holds an object with finalizers until an update empties them', async () => {
    await t.call('POST', CM, { ...configMap('fin'), metadata: { name: 'fin', finalizers: ['example.com/hold'] } });
    const del = await t.call('DELETE', `${CM}/fin`);
    expect(del.status).toBe(200);
    expect(del.body.metadata.deletionTimestamp).toBeDefined();
    expect(del.body.metadata.deletionGracePeriodSeconds).toBe(0);
    const held = await t.call('GET', `${CM}/fin`);
    expect(held.status).toBe(200);
    const released = await t.call('PATCH', `${CM}/fin`, { metadata: { finalizers: null } }, { 'Content-Type': 'application/merge-patch+json' });
    expect(released.status).toBe(200);
    expect((await t.call('GET', `${CM}/fin`)).status).toBe(404);
  });

  it('checks delete preconditions', async () => {
    await t.call('POST', CM, configMap('pre'));
    const res = await t.call('DELETE', `${CM}/pre`, { preconditions: { uid: 'not-the-uid' } });
    expect(res.status).toBe(409);
    expect(res.body.message).toContain('Precondition failed: UID in precondition: not-the-uid');
  });
});

describe('apiserver namespace termination', () => {
  it('terminates a namespace, refuses new content, and removes it once finalized', async () => {
    await t.call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'doomed' } });
    const created = (await t.call('GET', '/api/v1/namespaces/doomed')).body;
    expect(created.spec.finalizers).toEqual(['kubernetes']);
    const del = await t.call('DELETE', '/api/v1/namespaces/doomed');
    expect(del.status).toBe(200);
    expect(del.body.status.phase).toBe('Terminating');
    expect(del.body.metadata.deletionTimestamp).toBeDefined();
    const refused = await t.call('POST', '/api/v1/namespaces/doomed/configmaps', configMap('late'));
    expect(refused.status).toBe(403);
    expect(refused.body.message).toBe('configmaps "late" is forbidden: unable to create new content in namespace doomed because it is being terminated');
    // deleting again while the kubernetes finalizer is there changes nothing
    expect((await t.call('DELETE', '/api/v1/namespaces/doomed')).body.status.phase).toBe('Terminating');
    const ns = (await t.call('GET', '/api/v1/namespaces/doomed')).body;
    const fin = await t.call('PUT', '/api/v1/namespaces/doomed/finalize', { ...ns, spec: { finalizers: [] } });
    expect(fin.status).toBe(200);
    expect((await t.call('GET', '/api/v1/namespaces/doomed')).status).toBe(404);
  });
});

describe('apiserver services', () => {
  it('allocates a ClusterIP and NodePort, and frees them on delete', async () => {
    const res = await t.call('POST', SVCS, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'np' },
      spec: { type: 'NodePort', selector: { app: 'x' }, ports: [{ port: 80, nodePort: 30080 }] },
    });
    expect(res.status).toBe(201);
    expect(res.body.spec.clusterIP).toMatch(/^10\.(9[6-9]|1[01][0-9])\./);
    expect(res.body.spec.ports[0].nodePort).toBe(30080);
    const clash = await t.call('POST', SVCS, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'np2' },
      spec: { type: 'NodePort', selector: { app: 'x' }, ports: [{ port: 80, nodePort: 30080 }] },
    });
    expect(clash.status).toBe(422);
    expect(clash.body.reason).toBe('Invalid');
    expect(clash.body.message).toMatch(/^Service "np2" is invalid: spec.ports\[0\].nodePort: Invalid value: 30080: provided port is already allocated/);
    expect((await t.call('DELETE', `${SVCS}/np`)).status).toBe(200);
    const reuse = await t.call('POST', SVCS, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'np3' },
      spec: { type: 'NodePort', selector: { app: 'x' }, ports: [{ port: 80, nodePort: 30080 }] },
    });
    expect(reuse.status).toBe(201);
  });

  it('refuses the kubernetes Service IP to another Service', async () => {
    const res = await t.call('POST', SVCS, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'thief' }, spec: { clusterIP: '10.96.0.1', ports: [{ port: 80 }] } });
    expect(res.status).toBe(422);
    expect(res.body.message).toContain('spec.clusterIPs');
  });
});

describe('apiserver scale subresource', () => {
  it('reads and writes a Deployment through autoscaling/v1 Scale', async () => {
    const dep = '/apis/apps/v1/namespaces/default/deployments';
    await t.call('POST', dep, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'sc' },
      spec: { replicas: 2, selector: { matchLabels: { app: 'sc' } }, template: { metadata: { labels: { app: 'sc' } }, spec: { containers: [{ name: 'c', image: 'x' }] } } },
    });
    const scale = (await t.call('GET', `${dep}/sc/scale`)).body;
    expect(scale).toMatchObject({ apiVersion: 'autoscaling/v1', kind: 'Scale', spec: { replicas: 2 }, status: { replicas: 0, selector: 'app=sc' } });
    const put = await t.call('PUT', `${dep}/sc/scale`, { ...scale, spec: { replicas: 5 } });
    expect(put.status).toBe(200);
    expect(put.body.spec.replicas).toBe(5);
    const patched = await t.call('PATCH', `${dep}/sc/scale`, { spec: { replicas: 1 } }, { 'Content-Type': 'application/merge-patch+json' });
    expect(patched.body.spec.replicas).toBe(1);
    const d = (await t.call('GET', `${dep}/sc`)).body;
    expect(d.spec.replicas).toBe(1);
    expect(d.metadata.generation).toBe(3);
    const stale = await t.call('PUT', `${dep}/sc/scale`, { ...scale, spec: { replicas: 4 } });
    expect(stale.status).toBe(409);
  });
});

describe('apiserver nodes', () => {
  it('keeps a registering kubelet\'s status and lets it update status through /status only', async () => {
    const node = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'n1', labels: { 'kubernetes.io/hostname': 'n1' } },
      spec: { podCIDR: '10.244.1.0/24', podCIDRs: ['10.244.1.0/24'] },
      status: { addresses: [{ type: 'InternalIP', address: '172.18.0.3' }], conditions: [{ type: 'Ready', status: 'False' }] },
    };
    const created = await t.call('POST', '/api/v1/nodes', node);
    expect(created.status).toBe(201);
    expect(created.body.status.addresses).toEqual(node.status.addresses);
    const ready = { ...created.body, status: { ...created.body.status, conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }] } };
    const upd = await t.call('PUT', '/api/v1/nodes/n1/status', ready);
    expect(upd.status).toBe(200);
    expect(upd.body.status.conditions[0].status).toBe('True');
    const viaMain = await t.call('PUT', '/api/v1/nodes/n1', { ...upd.body, status: { conditions: [] } });
    expect(viaMain.body.status.conditions[0].status).toBe('True');
  });
});
