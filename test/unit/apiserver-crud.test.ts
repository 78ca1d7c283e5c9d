import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CM, configMap, PODS, pod, startTestServer, type TestServer } from './apiserver-harness.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.stop();
});

describe('apiserver bootstrap and discovery', () => {
  it('creates the system namespaces and the kubernetes Service', async () => {
    const ns = await t.call('GET', '/api/v1/namespaces');
    expect(ns.body.items.map((n: { metadata: { name: string } }) => n.metadata.name)).toEqual(['default', 'kube-node-lease', 'kube-public', 'kube-system']);
    expect(ns.body.items[0].status.phase).toBe('Active');
    const svc = await t.call('GET', '/api/v1/namespaces/default/services/kubernetes');
    expect(svc.status).toBe(200);
    expect(svc.body.spec.clusterIP).toBe('10.96.0.1');
    expect(svc.body.spec.ports[0]).toMatchObject({ name: 'https', port: 443, targetPort: 6443, protocol: 'TCP' });
    expect(svc.body.spec.selector).toBeUndefined();
  });

  it('serves discovery, version and health', async () => {
    const core = await t.call('GET', '/api/v1');
    expect(core.body.kind).toBe('APIResourceList');
    const names = core.body.resources.map((r: { name: string }) => r.name);
    expect(names).toEqual(expect.arrayContaining(['pods', 'pods/status', 'pods/binding', 'services', 'namespaces/finalize']));
    const apps = await t.call('GET', '/apis/apps/v1');
    const scale = apps.body.resources.find((r: { name: string }) => r.name === 'deployments/scale');
    expect(scale).toMatchObject({ group: 'autoscaling', version: 'v1', kind: 'Scale' });
    const groups = await t.call('GET', '/apis');
    expect(groups.body.groups.map((g: { name: string }) => g.name)).toEqual(expect.arrayContaining(['apps', 'discovery.k8s.io', 'networking.k8s.io']));
    expect((await t.call('GET', '/version')).body.gitVersion).toBe('v1.31.0-kemu');
    expect((await t.call('GET', '/healthz')).text).toBe('ok');
    const missing = await t.call('GET', '/api/v1/widgets');
    expect(missing.status).toBe(404);
    expect(missing.body.kind).toBe('Status');
  });
});

describe('apiserver create/get/list/delete', () => {
  it('creates with server-set fields and 201', async () => {
    const res = await t.call('POST', CM, configMap('one'));
    expect(res.status).toBe(201);
    const m = res.body.metadata;
    expect(m.namespace).toBe('default');
    expect(m.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(m.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(Number(m.resourceVersion)).toBeGreaterThan(0);
    expect(m.generation).toBe(1);
    const got = await t.call('GET', `${CM}/one`);
    expect(got.body).toEqual(res.body);
  });

  it('rejects a duplicate with 409 AlreadyExists', async () => {
    await t.call('POST', CM, configMap('dup'));
    const res = await t.call('POST', CM, configMap('dup'));
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'AlreadyExists', code: 409, message: 'configmaps "dup" already exists' });
  });

  it('answers a missing object with 404 and group-qualified names', async () => {
    const res = await t.call('GET', `${CM}/nope`);
    expect(res.status).toBe(404);
    expect(res.body.message).toBe('configmaps "nope" not found');
    const dep = await t.call('GET', '/apis/apps/v1/namespaces/default/deployments/web');
    expect(dep.body.message).toBe('deployments.apps "web" not found');
  });

  it('generates names from generateName', async () => {
    const res = await t.call('POST', CM, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'gen-' } });
    expect(res.status).toBe(201);
    expect(res.body.metadata.name).toMatch(/^gen-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  });

  it('requires a name', async () => {
    const res = await t.call('POST', CM, { apiVersion: 'v1', kind: 'ConfigMap', metadata: {} });
    expect(res.status).toBe(422);
    expect(res.body.reason).toBe('Invalid');
    expect(res.body.message).toContain('metadata.name: Required value');
  });

  it('checks the namespace of the request', async () => {
    const mismatch = await t.call('POST', CM, { ...configMap('x'), metadata: { name: 'x', namespace: 'other' } });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.message).toBe('the namespace of the provided object does not match the namespace sent on the request');
    const missing = await t.call('POST', '/api/v1/namespaces/ghost/configmaps', configMap('x'));
    expect(missing.status).toBe(404);
    expect(missing.body.message).toBe('namespaces "ghost" not found');
  });

  it('rejects bad JSON and a body of another kind with 400', async () => {
    const bad = await t.call('POST', CM, '{"kind": ');
    expect(bad.status).toBe(400);
    expect(bad.body.reason).toBe('BadRequest');
    expect(bad.body.message).toContain('json parse error');
    const wrongKind = await t.call('POST', CM, pod('p'));
    expect(wrongKind.status).toBe(400);
    expect(wrongKind.body.message).toContain('cannot be handled as a ConfigMap');
    const wrongVersion = await t.call('POST', CM, { ...configMap('v'), apiVersion: 'apps/v1' });
    expect(wrongVersion.status).toBe(400);
    expect(wrongVersion.body.message).toBe('the API version in the data (apps/v1) does not match the expected API version (v1)');
  });

  it('answers validation failures with 422 naming kind and object', async () => {
    const res = await t.call('POST', CM, configMap('Bad_Name'));
    expect(res.status).toBe(422);
    expect(res.body.message).toMatch(/^ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name"/);
    expect(res.body.details.causes[0].field).toBe('metadata.name');
  });

  it('lists sorted by namespace then name, with label and field selectors', async () => {
    await t.call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a' } });
    await t.call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a-b' } });
    for (const [ns, name, tier] of [['a-b', 'z', 'web'], ['a', 'y', 'db'], ['a', 'x', 'web']]) {
      expect((await t.call('POST', `/api/v1/namespaces/${ns}/configmaps`, configMap(name, { tier }))).status).toBe(201);
    }
    const all = await t.call('GET', '/api/v1/configmaps?labelSelector=tier');
    expect(all.body.kind).toBe('ConfigMapList');
    expect(all.body.apiVersion).toBe('v1');
    expect(Number(all.body.metadata.resourceVersion)).toBeGreaterThan(0);
    expect(all.body.items.map((o: { metadata: { namespace: string; name: string } }) => `${o.metadata.namespace}/${o.metadata.name}`)).toEqual(['a/x', 'a/y', 'a-b/z']);
    expect(all.body.items[0]).toMatchObject({ apiVersion: 'v1', kind: 'ConfigMap' });
    const web = await t.call('GET', '/api/v1/configmaps?labelSelector=' + encodeURIComponent('tier in (web)'));
    expect(web.body.items.map((o: { metadata: { name: string } }) => o.metadata.name)).toEqual(['x', 'z']);
    const byName = await t.call('GET', '/api/v1/configmaps?fieldSelector=metadata.name%3Dy');
    expect(byName.body.items.map((o: { metadata: { name: string } }) => o.metadata.name)).toEqual(['y']);
    const notNs = await t.call('GET', '/api/v1/configmaps?labelSelector=tier&fieldSelector=metadata.namespace!%3Da');
    expect(notNs.body.items.map((o: { metadata: { name: string } }) => o.metadata.name)).toEqual(['z']);
    const unsupported = await t.call('GET', '/api/v1/configmaps?fieldSelector=spec.foo%3Dx');
    expect(unsupported.status).toBe(400);
    expect(unsupported.body.message).toBe('field label not supported: spec.foo');
    const badLabels = await t.call('GET', '/api/v1/configmaps?labelSelector=' + encodeURIComponent('a in (b'));
    expect(badLabels.status).toBe(400);
    expect(badLabels.body.message).toMatch(/^unable to parse requirement/);
  });

  it('filters pods by spec.nodeName', async () => {
    await t.call('POST', PODS, pod('on-n1', { spec: { nodeName: 'n1' } }));
    await t.call('POST', PODS, pod('floating'));
    const res = await t.call('GET', `${PODS}?fieldSelector=spec.nodeName%3Dn1`);
    expect(res.body.items.map((o: { metadata: { name: string } }) => o.metadata.name)).toEqual(['on-n1']);
  });

  it('deletes and returns the final object', async () => {
    await t.call('POST', CM, configMap('gone'));
    const res = await t.call('DELETE', `${CM}/gone`);
    expect(res.status).toBe(200);
    expect(res.body.metadata.name).toBe('gone');
    expect((await t.call('GET', `${CM}/gone`)).status).toBe(404);
    expect((await t.call('DELETE', `${CM}/gone`)).status).toBe(404);
  });

  it('deletes a collection by label selector', async () => {
    await t.call('POST', CM, configMap('batch-1', { batch: 'yes' }));
    await t.call('POST', CM, configMap('batch-2', { batch: 'yes' }));
    await t.call('POST', CM, configMap('keep', { batch: 'no' }));
    const res = await t.call('DELETE', `${CM}?labelSelector=batch%3Dyes`);
    expect(res.status).toBe(200);
    expect(res.body.items.map((o: { metadata: { name: string } }) => o.metadata.name)).toEqual(['batch-1', 'batch-2']);
    expect((await t.call('GET', `${CM}/keep`)).status).toBe(200);
  });
});

describe('apiserver update and patch', () => {
  it('updates with a resourceVersion precondition and bumps generation on spec change', async () => {
    const created = (await t.call('POST', '/apis/apps/v1/namespaces/default/deployments', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
    })).body;
    expect(created.metadata.generation).toBe(1);
    const labelled = { ...created, metadata: { ...created.metadata, labels: { x: 'y' } } };
    const r1 = await t.call('PUT', '/apis/apps/v1/namespaces/default/deployments/web', labelled);
    expect(r1.status).toBe(200);
    expect(r1.body.metadata.generation).toBe(1);
    expect(Number(r1.body.metadata.resourceVersion)).toBeGreaterThan(Number(created.metadata.resourceVersion));
    const scaled = { ...r1.body, spec: { ...r1.body.spec, replicas: 3 } };
    const r2 = await t.call('PUT', '/apis/apps/v1/namespaces/default/deployments/web', scaled);
    expect(r2.body.metadata.generation).toBe(2);
    // the first body's resourceVersion is stale now
    const stale = await t.call('PUT', '/apis/apps/v1/namespaces/default/deployments/web', labelled);
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({
      reason: 'Conflict',
      message: 'Operation cannot be fulfilled on deployments.apps "web": the object has been modified; please apply your changes to the latest version and try again',
    });
  });

  it('rejects a PUT whose name differs from the URL and a PUT of a missing object', async () => {
    const cm = (await t.call('POST', CM, configMap('named'))).body;
    const res = await t.call('PUT', `${CM}/named`, { ...cm, metadata: { ...cm.metadata, name: 'other' } });
    expect(res.status).toBe(400);
    expect(res.body.message).toBe('the name of the object (other) does not match the name on the URL (named)');
    expect((await t.call('PUT', `${CM}/absent`, configMap('absent'))).status).toBe(404);
  });

  it('applies merge patches (and strategic ones as merge patches)', async () => {
    await t.call('POST', CM, configMap('mp', { a: '1' }, { k1: 'v1', k2: 'v2' }));
    const res = await t.call('PATCH', `${CM}/mp`, { data: { k1: null, k3: 'v3' }, metadata: { labels: { b: '2' } } }, { 'Content-Type': 'application/merge-patch+json' });
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ k2: 'v2', k3: 'v3' });
    expect(res.body.metadata.labels).toEqual({ a: '1', b: '2' });
    const smp = await t.call('PATCH', `${CM}/mp`, { data: { k4: 'v4' } }, { 'Content-Type': 'application/strategic-merge-patch+json; charset=utf-8' });
    expect(smp.body.data).toEqual({ k2: 'v2', k3: 'v3', k4: 'v4' });
  });

  it('applies JSON patches, failing ones with 422 and changing nothing', async () => {
    await t.call('POST', CM, configMap('jp', {}, { a: '1' }));
    const jp = { 'Content-Type': 'application/json-patch+json' };
    const ok = await t.call('PATCH', `${CM}/jp`, [{ op: 'add', path: '/data/b', value: '2' }, { op: 'remove', path: '/data/a' }], jp);
    expect(ok.status).toBe(200);
    expect(ok.body.data).toEqual({ b: '2' });
    const failed = await t.call('PATCH', `${CM}/jp`, [{ op: 'replace', path: '/data/b', value: '3' }, { op: 'test', path: '/data/b', value: 'x' }], jp);
    expect(failed.status).toBe(422);
    expect((await t.call('GET', `${CM}/jp`)).body.data).toEqual({ b: '2' });
    const malformed = await t.call('PATCH', `${CM}/jp`, { op: 'add' }, jp);
    expect(malformed.status).toBe(400);
  });

  it('honours a resourceVersion inside a patch as a precondition', async () => {
    const cm = (await t.call('POST', CM, configMap('mprv'))).body;
    await t.call('PATCH', `${CM}/mprv`, { data: { k: 'new' } }, { 'Content-Type': 'application/merge-patch+json' });
    const res = await t.call('PATCH', `${CM}/mprv`, { metadata: { resourceVersion: cm.metadata.resourceVersion }, data: { k: 'x' } }, { 'Content-Type': 'application/merge-patch+json' });
    expect(res.status).toBe(409);
  });

  it('answers an unknown patch type with 415', async () => {
    await t.call('POST', CM, configMap('pt'));
    const res = await t.call('PATCH', `${CM}/pt`, { data: {} }, { 'Content-Type': 'application/json' });
    expect(res.status).toBe(415);
    expect(res.body.reason).toBe('UnsupportedMediaType');
  });

  it('loses no update when many merge patches race', async () => {
    await t.call('POST', CM, configMap('race', {}, {}));
    const n = 25;
    const replies = await Promise.all(
      Array.from({ length: n }, (_, i) => t.call('PATCH', `${CM}/race`, { data: { [`k${i}`]: String(i) } }, { 'Content-Type': 'application/merge-patch+json' })),
    );
    expect(replies.every((r) => r.status === 200)).toBe(true);
    const data = (await t.call('GET', `${CM}/race`)).body.data;
    expect(Object.keys(data)).toHaveLength(n);
  });

  it('takes only status through /status and ignores status on the main resource', async () => {
    const created = (await t.call('POST', PODS, pod('st'))).body;
    expect(created.status).toMatchObject({ phase: 'Pending', qosClass: 'BestEffort' });
    const viaStatus = await t.call('PUT', `${PODS}/st/status`, {
      ...created,
      metadata: { ...created.metadata, labels: { sneaky: 'yes' } },
      spec: { ...created.spec, nodeName: 'sneaky' },
      status: { phase: 'Running', podIP: '10.244.1.5' },
    });
    expect(viaStatus.status).toBe(200);
    expect(viaStatus.body.status).toEqual({ phase: 'Running', podIP: '10.244.1.5' });
    expect(viaStatus.body.spec.nodeName).toBeUndefined();
    expect(viaStatus.body.metadata.labels).toBeUndefined();
    const viaMain = await t.call('PUT', `${PODS}/st`, { ...viaStatus.body, metadata: { ...viaStatus.body.metadata, labels: { a: 'b' } }, status: { phase: 'Failed' } });
    expect(viaMain.status).toBe(200);
    expect(viaMain.body.status.phase).toBe('Running');
    expect(viaMain.body.metadata.labels).toEqual({ a: 'b' });
    const patched = await t.call('PATCH', `${PODS}/st/status`, { status: { podIP: '10.244.1.6' } }, { 'Content-Type': 'application/merge-patch+json' });
    expect(patched.body.status).toMatchObject({ phase: 'Running', podIP: '10.244.1.6' });
  });
});
