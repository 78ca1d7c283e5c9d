// Namespace deletion end to end: a real API server and the controller manager. Deleting a
// namespace marks it Terminating, the API refuses new content in it, the namespace controller
// deletes what is inside and finalizes it, and the API server then removes it.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiError } from '../../src/api/errors.js';
import { RESOURCES } from '../../src/api/resources.js';
import type { ConfigMap, Deployment, Namespace, Service } from '../../src/api/types.js';
import { DEPLOYMENTS, NAMESPACES, PODS, REPLICA_SETS, SERVICES } from '../../src/controllers/kinds.js';
import { startControllers, type RunningControllers } from '../../src/controllers/manager.js';
import { ApiFixture, until } from './support/api-fixture.js';

const CONFIG_MAPS = RESOURCES.find((r) => r.plural === 'configmaps')!;
const NS = 'lab';

let f: ApiFixture;
let controllers: RunningControllers;

beforeAll(async () => {
  f = await ApiFixture.start();
  controllers = await startControllers(f.client, f.opts.config, { resyncMs: 2000 });
});

afterAll(async () => {
  await controllers?.stop();
  await f?.close();
});

const deployment: Deployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: NS },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1' }] } },
  },
};
const service: Service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: NS }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } };
const configMap = (name: string): ConfigMap => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: NS }, data: { greeting: 'hello' } });

describe('namespace deletion with the controllers running', () => {
  it('empties the namespace, finalizes it, and refuses new content meanwhile', async () => {
    const { client } = f;
    await client.create<Namespace>(NAMESPACES, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    await client.create(DEPLOYMENTS, NS, deployment);
    await client.create(SERVICES, NS, service);
    await client.create(CONFIG_MAPS, NS, configMap('settings'));
    // the controllers are at work in it: the Deployment's Pods exist
    await until('2 pods', async () => (await client.list(PODS, NS)).items.length === 2);

    const deleted = (await client.delete(NAMESPACES, undefined, NS)) as Namespace;
    expect(deleted.status?.phase).toBe('Terminating');
    expect(deleted.metadata.deletionTimestamp).toBeDefined();

    const refused = await client.create(CONFIG_MAPS, NS, configMap('late')).then(
      () => undefined,
      (e: ApiError) => e,
    );
    expect(refused?.code).toBe(403);
    expect(refused?.status.reason).toBe('Forbidden');
    expect(refused?.message).toBe(`configmaps "late" is forbidden: unable to create new content in namespace ${NS} because it is being terminated`);

    await until('namespace gone', () => client.get(NAMESPACES, undefined, NS).then(() => false, (e: ApiError) => e.code === 404));
    for (const r of [DEPLOYMENTS, REPLICA_SETS, PODS, SERVICES, CONFIG_MAPS]) {
      expect((await client.list(r, NS)).items, r.plural).toEqual([]);
    }
    // a namespace that no longer exists takes nothing either
    const missing = await client.create(CONFIG_MAPS, NS, configMap('after')).then(
      () => undefined,
      (e: ApiError) => e,
    );
    expect(missing?.code).toBe(404);
  });
});
