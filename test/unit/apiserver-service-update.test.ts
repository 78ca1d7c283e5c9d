// Service updates through the real API server: the registry's update preparation (carry allocated
// values over, drop what the new type no longer uses) runs before validation, as upstream's
// beginUpdate does, for PUT and for patches.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SVCS, startTestServer, type Json, type TestServer } from './apiserver-harness.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.stop();
});

const MERGE = { 'Content-Type': 'application/merge-patch+json' };

function service(name: string, spec: Json): Json {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { selector: { app: name }, ports: [{ name: 'http', port: 80, targetPort: 8080 }], ...spec } };
}

describe('apiserver Service updates', () => {
  it('keeps the allocated clusterIP when a PUT leaves it out', async () => {
    const created = (await t.call('POST', SVCS, service('keep-ip', {}))).body;
    const ip = created.spec.clusterIP;
    expect(ip).toMatch(/^10\.(9[6-9]|10[0-9]|11[01])\./);
    const put = await t.call('PUT', `${SVCS}/keep-ip`, service('keep-ip', { selector: { app: 'other' } }));
    expect(put.status).toBe(200);
    expect(put.body.spec.clusterIP).toBe(ip);
    expect(put.body.spec.clusterIPs).toEqual([ip]);
    expect(put.body.spec.selector).toEqual({ app: 'other' });
    expect(put.body.metadata.generation).toBe(created.metadata.generation + 1);
  });

  it('keeps allocated nodePorts when a PUT of a NodePort Service leaves them out', async () => {
    const created = (await t.call('POST', SVCS, service('keep-np', { type: 'NodePort' }))).body;
    const nodePort = created.spec.ports[0].nodePort;
    expect(nodePort).toBeGreaterThanOrEqual(30000);
    const put = await t.call('PUT', `${SVCS}/keep-np`, service('keep-np', { type: 'NodePort' }));
    expect(put.status).toBe(200);
    expect(put.body.spec.ports[0].nodePort).toBe(nodePort);
    expect(put.body.spec.clusterIP).toBe(created.spec.clusterIP);
    // what the server filled in again is no change of spec
    expect(put.body.metadata.generation).toBe(created.metadata.generation);
  });

  it('drops nodePorts and externalTrafficPolicy when a patch turns NodePort into ClusterIP', async () => {
    const created = (await t.call('POST', SVCS, service('np-to-cip', { type: 'NodePort', externalTrafficPolicy: 'Local' }))).body;
    const nodePort = created.spec.ports[0].nodePort;
    const patched = await t.call('PATCH', `${SVCS}/np-to-cip`, { spec: { type: 'ClusterIP' } }, MERGE);
    expect(patched.status).toBe(200);
    expect(patched.body.spec.type).toBe('ClusterIP');
    expect(patched.body.spec.ports[0].nodePort).toBeUndefined();
    expect(patched.body.spec.externalTrafficPolicy).toBeUndefined();
    expect(patched.body.spec.clusterIP).toBe(created.spec.clusterIP);
    // the nodePort went back to the pool: another Service can ask for it by number
    const other = await t.call('POST', SVCS, service('takes-port', { type: 'NodePort', ports: [{ port: 80, nodePort }] }));
    expect(other.status).toBe(201);
    expect(other.body.spec.ports[0].nodePort).toBe(nodePort);
  });

  it('drops them too when an applied manifest (PUT) of the ClusterIP type still carries them', async () => {
    const created = (await t.call('POST', SVCS, service('np-put', { type: 'NodePort' }))).body;
    const body = { ...created, spec: { ...created.spec, type: 'ClusterIP' } };
    const put = await t.call('PUT', `${SVCS}/np-put`, body);
    expect(put.status).toBe(200);
    expect(put.body.spec.ports[0].nodePort).toBeUndefined();
    expect(put.body.spec.externalTrafficPolicy).toBeUndefined();
  });

  it('still rejects a changed clusterIP with the upstream message', async () => {
    await t.call('POST', SVCS, service('fixed-ip', {}));
    const res = await t.call('PATCH', `${SVCS}/fixed-ip`, { spec: { clusterIP: '10.96.200.200', clusterIPs: ['10.96.200.200'] } }, MERGE);
    expect(res.status).toBe(422);
    expect(res.body.message).toContain('spec.clusterIPs[0]: Invalid value: []string{"10.96.200.200"}: may not change once set');
  });
});
