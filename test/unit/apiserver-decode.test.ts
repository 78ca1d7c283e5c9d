// Decode-time type checks through the real server: a field whose JSON type cannot go into its Go
// type is a 400 BadRequest worded as kube-apiserver's decoder, and nothing is written.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CM, configMap, PODS, pod, SVCS, startTestServer, type Json, type TestServer } from './apiserver-harness.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.stop();
});

const DEPLOYS = '/apis/apps/v1/namespaces/default/deployments';
const SLICES = '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices';
const MERGE = { 'Content-Type': 'application/merge-patch+json' };

function deployment(name: string, replicas: unknown, port: unknown = 8080): Json {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'web', image: 'nginx', ports: [{ containerPort: port }] }] } },
    },
  };
}

/** POSTs body to url and expects a 400 with message, and no object afterwards. */
async function rejected(url: string, body: Json, message: string): Promise<void> {
  const res = await t.call('POST', url, body);
  expect(res.status).toBe(400);
  expect(res.body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'BadRequest', code: 400 });
  expect(res.body.message).toBe(message);
  if (typeof body.metadata?.name === 'string') expect((await t.call('GET', `${url}/${body.metadata.name}`)).status).toBe(404);
}

describe('apiserver decode-time field types', () => {
  it('rejects a label value that YAML turned into a bool', async () => {
    await rejected(
      CM,
      configMap('yes-label', { enabled: true } as Json),
      'ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal bool into Go struct field ObjectMeta.metadata.labels of type string',
    );
  });

  it('rejects wrongly typed names, namespaces and annotations', async () => {
    await rejected(CM, { ...configMap('x'), metadata: { name: 42 } }, 'ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal number into Go struct field ObjectMeta.metadata.name of type string');
    await rejected(
      CM,
      { ...configMap('ns-list'), metadata: { name: 'ns-list', namespace: ['default'] } },
      'ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal array into Go struct field ObjectMeta.metadata.namespace of type string',
    );
    await rejected(
      CM,
      { ...configMap('ann'), metadata: { name: 'ann', annotations: { note: { nested: 'x' } } } },
      'ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal object into Go struct field ObjectMeta.metadata.annotations of type string',
    );
    await rejected(CM, { ...configMap('meta'), metadata: 'meta' }, 'ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal string into Go struct field ConfigMap.metadata of type v1.ObjectMeta');
  });

  it('rejects replicas and container ports that are not integers', async () => {
    await rejected(DEPLOYS, deployment('quoted', '3'), 'Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32');
    await rejected(
      DEPLOYS,
      deployment('port', 2, '8080'),
      'Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field ContainerPort.spec.template.spec.containers.ports.containerPort of type int32',
    );
    await rejected(SVCS, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'half' }, spec: { ports: [{ port: 80.5 }] } }, 'Service in version "v1" cannot be handled as a Service: json: cannot unmarshal number 80.5 into Go struct field ServicePort.spec.ports.port of type int32');
    await rejected(
      SLICES,
      { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'big' }, addressType: 'IPv4', endpoints: [], ports: [{ port: 2 ** 31 }] },
      `EndpointSlice in version "v1" cannot be handled as a EndpointSlice: json: cannot unmarshal number ${2 ** 31} into Go struct field EndpointPort.ports.port of type int32`,
    );
  });

  it('checks a Scale body written to deployments/{name}/scale', async () => {
    expect((await t.call('POST', DEPLOYS, deployment('scaled', 1))).status).toBe(201);
    const scale = { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'scaled' }, spec: { replicas: '4' } };
    const res = await t.call('PUT', `${DEPLOYS}/scaled/scale`, scale);
    expect(res.status).toBe(400);
    expect(res.body.message).toBe('Scale in version "v1" cannot be handled as a Scale: json: cannot unmarshal string into Go struct field ScaleSpec.spec.replicas of type int32');
    const ok = await t.call('PUT', `${DEPLOYS}/scaled/scale`, { ...scale, spec: { replicas: 4 } });
    expect(ok.status).toBe(200);
    expect((await t.call('GET', `${DEPLOYS}/scaled`)).body.spec.replicas).toBe(4);
  });

  it('rejects container names and images that are not strings', async () => {
    await rejected(PODS, pod('img', { spec: { containers: [{ name: 'c', image: 1.25 }] } }), 'Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal number into Go struct field Container.spec.containers.image of type string');
    await rejected(PODS, pod('cname', { spec: { containers: [{ name: true, image: 'nginx' }] } }), 'Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal bool into Go struct field Container.spec.containers.name of type string');
  });

  it('accepts targetPort as a number or a name', async () => {
    const res = await t.call('POST', SVCS, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'named-target' }, spec: { ports: [{ name: 'a', port: 80, targetPort: 'http' }, { name: 'b', port: 81, targetPort: 8081 }] } });
    expect(res.status).toBe(201);
  });

  it('checks the patched object of a PATCH and the body of a PUT, changing nothing on failure', async () => {
    const created = (await t.call('POST', CM, configMap('patched', { app: 'a' }))).body;
    const patch = await t.call('PATCH', `${CM}/patched`, { metadata: { labels: { replicas: 3 } } }, MERGE);
    expect(patch.status).toBe(400);
    expect(patch.body.message).toBe('ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string');
    const put = await t.call('PUT', `${CM}/patched`, { ...created, data: { k: false } });
    expect(put.status).toBe(400);
    expect(put.body.message).toBe('ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal bool into Go struct field ConfigMap.data of type string');
    const now = (await t.call('GET', `${CM}/patched`)).body;
    expect(now.metadata.resourceVersion).toBe(created.metadata.resourceVersion);
    expect(now.metadata.labels).toEqual({ app: 'a' });
  });

  it('decodes null as Go does: an absent field, an empty string in a map', async () => {
    const res = await t.call('POST', CM, { ...configMap('nulls'), metadata: { name: 'nulls', labels: { blank: null }, annotations: null } });
    expect(res.status).toBe(201);
    expect(res.body.metadata.labels).toEqual({ blank: '' });
    expect(res.body.metadata).not.toHaveProperty('annotations');
  });
});

describe('apiserver request bodies', () => {
  it('answers a body over 3 MiB with 413 and keeps serving the client', async () => {
    const big = configMap('big', {}, { blob: 'x'.repeat(3 * 1024 * 1024) });
    const res = await t.call('POST', CM, big);
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ reason: 'RequestEntityTooLarge', message: `Request entity too large: limit is ${3 * 1024 * 1024}` });
    expect((await t.call('GET', `${CM}/big`)).status).toBe(404);
  });
});
