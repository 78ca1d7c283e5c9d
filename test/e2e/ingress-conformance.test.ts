// The Kubernetes ingress conformance suite (kubernetes-sigs/ingress-controller-conformance, data in
// ../shared/conformance/ingress) against kemu's ingress on a real cluster: `kemu up`, the ingress
// add-on (IngressClass kemu, Deployment + NodePort Service traefik), then per feature a fresh
// namespace with the echo backends, the Ingress, and every case of cases.json sent from the root
// namespace to the address in the Ingress status on NodePort 30080 (http) / 30443 (https).
//
// Runner rules as the README gives them, with these documented departures: traffic goes to the
// status address on the NodePorts 30080/30443 (kemu's kubelet has no hostPort yet, so not :80/:443);
// the runner's --ingress-class is kemu; polls run every second instead of every 5 s; ingress_class
// watches the status for 10 s instead of 5 min; load_balancing waits for 10 ready endpoints plus a
// few seconds for the controller's reload instead of sleeping 60 s.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpClient } from '../../src/api/http-client.js';
import { resourceForKind, type ResourceType } from '../../src/api/resources.js';
import type { Deployment, EndpointSlice, Ingress, KubeObject, Namespace, Pod } from '../../src/api/types.js';
import { INGRESS_CLASS, INGRESS_NAME, INGRESS_NAMESPACE, INGRESS_NODE_PORTS } from '../../src/cli/addons/ingress.js';
import { caseProblems } from './ingress-conformance/assertions.js';
import {
  conformanceDataPresent,
  conformanceTlsSecret,
  echoObjects,
  featureIngress,
  loadCases,
  type ConformanceCase,
  type Feature,
} from './ingress-conformance/fixtures.js';
import { ConformanceClient, type ConformanceResponse } from './ingress-conformance/go-client.js';
import { kemuCli } from './kemu-cli.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kemu-ingress-e2e-'));
const CLUSTER = `t-ing-${Math.random().toString(36).slice(2, 6)}`;
const UNDERLAY = `172.30.${10 + Math.floor(Math.random() * 200)}.0/24`;
const env = { ...process.env, KEMU_STATE_ROOT: root, KEMU_CLUSTER: CLUSTER };
const API_SOCKET = path.join(root, CLUSTER, 'api.sock');

const STATUS_WAIT_MS = 90_000;
const READY_WAIT_MS = 120_000;
const FOREIGN_CLASS_WATCH_MS = 10_000;
const RELOAD_GRACE_MS = 3_000;
const LB_REPLICAS = 10;

const kind = (apiVersion: string, k: string): ResourceType => resourceForKind(apiVersion, k)!;
const NAMESPACES = kind('v1', 'Namespace');
const PODS = kind('v1', 'Pod');
const SLICES = kind('discovery.k8s.io/v1', 'EndpointSlice');
const DEPLOYMENTS = kind('apps/v1', 'Deployment');
const INGRESSES = kind('networking.k8s.io/v1', 'Ingress');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const { kemu } = kemuCli(env, 120_000);

const client = new HttpClient({ socketPath: API_SOCKET });

/** Polls `probe` every second until it returns a value; the error names `what` and what it last saw. */
async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, diagnose?: () => Promise<string>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${diagnose ? `\n${await diagnose()}` : ''}`);
    await sleep(1000);
  }
}

async function createObject(obj: KubeObject): Promise<KubeObject> {
  const r = kind(obj.apiVersion, obj.kind);
  return client.create(r, obj.metadata.namespace, obj);
}

/** Ready endpoint addresses of a Service, over all its EndpointSlices. */
async function readyAddresses(namespace: string, service: string): Promise<Set<string>> {
  const slices = await client.list<EndpointSlice>(SLICES, namespace, { labelSelector: `kubernetes.io/service-name=${service}` });
  return new Set(slices.items.flatMap((s) => (s.endpoints ?? []).filter((e) => e.conditions?.ready !== false).flatMap((e) => e.addresses)));
}

async function ingressAddress(namespace: string, name: string): Promise<string | undefined> {
  const ing = await client.get<Ingress>(INGRESSES, namespace, name);
  const first = ing.status?.loadBalancer?.ingress?.[0];
  return first?.ip || first?.hostname || undefined;
}

/** What the controller's Pod is doing, for a failure message. */
async function controllerDiagnosis(): Promise<string> {
  const pods = (await kemu(['get', 'pods', '-n', INGRESS_NAMESPACE, '-o', 'wide'])).stdout;
  const list = await client.list<Pod>(PODS, INGRESS_NAMESPACE, { labelSelector: `app.kubernetes.io/name=${INGRESS_NAME}` });
  const logs = await Promise.all(list.items.map(async (p) => (await kemu(['logs', '-n', INGRESS_NAMESPACE, p.metadata.name!, '--tail', '20'])).stdout));
  return `${pods}\n${logs.join('\n')}`;
}

/** A controller Pod whose image kemu cannot run will never become ready: say so at once. */
async function failOnImageError(): Promise<void> {
  const list = await client.list<Pod>(PODS, INGRESS_NAMESPACE, { labelSelector: `app.kubernetes.io/name=${INGRESS_NAME}` });
  for (const p of list.items) {
    for (const cs of p.status?.containerStatuses ?? []) {
      const reason = cs.state?.waiting?.reason;
      if (reason === 'ErrImagePull' || reason === 'InvalidImageName') throw new Error(`the ingress controller Pod cannot start: ${reason}: ${cs.state?.waiting?.message ?? ''}`);
    }
  }
}

interface FeatureRun {
  namespace: string;
  ingress: Ingress;
  /** set once the Ingress has an address */
  http?: ConformanceClient;
}

/** Namespace, backends (ready), TLS Secret, Ingress; then the address from its status (not for a foreign class). */
async function setUpFeature(feature: Feature, run: FeatureRun): Promise<void> {
  const ns = (await client.create<Namespace>(NAMESPACES, undefined, {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { generateName: 'ingress-conformance-', labels: { 'app.kubernetes.io/name': 'ingress-conformance' } },
  })) as Namespace;
  run.namespace = ns.metadata.name!;
  run.ingress = featureIngress(feature, run.namespace, INGRESS_CLASS);
  const backends = echoObjects(run.ingress);
  for (const b of backends) {
    await createObject(b.deployment);
    await createObject(b.service);
  }
  for (const b of backends) {
    const name = b.service.metadata.name!;
    await waitFor(`a ready endpoint of Service ${run.namespace}/${name}`, READY_WAIT_MS, async () => ((await readyAddresses(run.namespace, name)).size > 0 ? true : undefined));
  }
  if (feature === 'host_rules') await createObject(conformanceTlsSecret(run.namespace));
  await createObject(run.ingress);
  if (feature === 'ingress_class') return;
  const address = await waitFor(`an address in the status of Ingress ${run.namespace}/${run.ingress.metadata.name}`, STATUS_WAIT_MS, () =>
    ingressAddress(run.namespace, run.ingress.metadata.name!),
  controllerDiagnosis);
  run.http = new ConformanceClient(address, { http: INGRESS_NODE_PORTS.web, https: INGRESS_NODE_PORTS.websecure });
}

async function tearDownFeature(run: FeatureRun): Promise<void> {
  run.http?.close();
  if (run.namespace) await client.delete(NAMESPACES, undefined, run.namespace, { gracePeriodSeconds: 0, propagationPolicy: 'Background' });
}

const cases = conformanceDataPresent() ? loadCases() : [];
const casesOf = (feature: Feature): ConformanceCase[] => cases.filter((c) => c.feature === feature);
const title = (c: ConformanceCase): string => (c.request ? `${c.scenario} [${c.request.method} ${c.request.scheme}://${c.request.host ?? '<address>'}${c.request.path}]` : c.scenario);

/** Runs the single-request cases of a feature, each as its own test. */
function requestCases(feature: Feature, run: FeatureRun): void {
  for (const c of casesOf(feature)) {
    it(title(c), async () => {
      const req = c.request!;
      const res: ConformanceResponse = await run.http!.send({ method: req.method, scheme: req.scheme, host: req.host, path: req.path, headers: req.headers });
      expect(caseProblems(c.expect, res)).toEqual([]);
    });
  }
}

beforeAll(async () => {
  const up = await kemu(['up', '--cluster', CLUSTER, '--nodes', '1', '--underlay-cidr', UNDERLAY], 180_000);
  if (up.code !== 0) throw new Error(`kemu up failed:\n${up.stdout}\n${up.stderr}`);
  // `kemu up` installs the ingress add-on (IngressClass kemu, the traefik Deployment and NodePort Service).
  await waitFor('the ingress controller Deployment to be ready', READY_WAIT_MS, async () => {
    await failOnImageError();
    const d = await client.get<Deployment>(DEPLOYMENTS, INGRESS_NAMESPACE, INGRESS_NAME);
    return (d.status?.readyReplicas ?? 0) >= 1 ? true : undefined;
  }, controllerDiagnosis);
}, 330_000);

afterAll(async () => {
  client.close();
  await kemu(['down', '--cluster', CLUSTER]);
  fs.rmSync(root, { recursive: true, force: true });
}, 60_000);

describe.skipIf(!conformanceDataPresent())('ingress conformance on a kemu cluster', () => {
  describe('default_backend', () => {
    const run = {} as FeatureRun;
    beforeAll(() => setUpFeature('default_backend', run), 240_000);
    afterAll(() => tearDownFeature(run));
    requestCases('default_backend', run);
  });

  describe('host_rules', () => {
    const run = {} as FeatureRun;
    beforeAll(() => setUpFeature('host_rules', run), 240_000);
    afterAll(() => tearDownFeature(run));
    requestCases('host_rules', run);
  });

  describe('path_rules', () => {
    const run = {} as FeatureRun;
    beforeAll(() => setUpFeature('path_rules', run), 240_000);
    afterAll(() => tearDownFeature(run));
    requestCases('path_rules', run);
  });

  describe('ingress_class', () => {
    const run = {} as FeatureRun;
    beforeAll(() => setUpFeature('ingress_class', run), 240_000);
    afterAll(() => tearDownFeature(run));
    for (const c of casesOf('ingress_class')) {
      it(title(c), async () => {
        const deadline = Date.now() + FOREIGN_CLASS_WATCH_MS;
        while (Date.now() < deadline) {
          expect(await ingressAddress(run.namespace, run.ingress.metadata.name!)).toBeUndefined();
          await sleep(1000);
        }
      });
    }
  });

  describe('load_balancing', () => {
    const run = {} as FeatureRun;
    beforeAll(() => setUpFeature('load_balancing', run), 240_000);
    afterAll(() => tearDownFeature(run));
    for (const c of casesOf('load_balancing')) {
      it(title(c), async () => {
        const req = c.request!;
        const replicas = c.expect.replicas ?? LB_REPLICAS;
        const backend = echoObjects(run.ingress)[0]!;
        await client.patch(DEPLOYMENTS, run.namespace, backend.deployment.metadata.name!, { spec: { replicas } });
        const service = backend.service.metadata.name!;
        await waitFor(`${replicas} ready endpoints of Service ${run.namespace}/${service}`, READY_WAIT_MS, async () =>
          (await readyAddresses(run.namespace, service)).size >= replicas ? true : undefined,
        );
        await sleep(RELOAD_GRACE_MS);
        const statuses: number[] = [];
        const pods = new Set<string>();
        for (let i = 0; i < (req.count ?? 1); i++) {
          const res = await run.http!.send({ method: req.method, scheme: req.scheme, host: req.host, path: req.path, headers: req.headers });
          statuses.push(res.status);
          if (res.echo?.pod) pods.add(res.echo.pod);
        }
        expect(statuses.filter((s) => s !== c.expect.status)).toEqual([]);
        expect(pods.size).toBe(c.expect.distinctEchoPods);
      }, 240_000);
    }
  });
});
