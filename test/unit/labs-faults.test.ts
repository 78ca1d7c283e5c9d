// Lab 08's faults against a scripted cluster: each one breaks what it says, is not "fixed" until
// the cluster works again, and is named by the `fault` probe only once fixed. Also the probe kinds
// labs 05-08 added (podCommand, hostCommand, field in another namespace) and the faults list of
// lab.yaml.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultClusterConfig } from '../../src/api/cluster.js';
import type { ConfigMap, Deployment, KubeObject, Pod, Service } from '../../src/api/types.js';
import type { WritableLabEnv } from '../../src/labs/env.js';
import { FAULT_NAMES, fixedFault, injectFault, readFault } from '../../src/labs/faults.js';
import { gradeLab } from '../../src/labs/grade.js';
import { runProbe } from '../../src/labs/probes.js';
import { parseLabSpec } from '../../src/labs/spec.js';

const COREFILE = '.:53 {\n    errors\n    ready\n    kubernetes cluster.local\n    forward . /etc/resolv.conf\n}\n';

/** RFC 7386: objects merge, everything else (lists too) replaces, null deletes. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

const ready = (ok: boolean) => [{ type: 'Ready', status: ok ? 'True' : 'False' }];

const pod = (name: string, labels: Record<string, string>, node: string, namespace = 'default'): Pod =>
  ({ metadata: { name, namespace, labels }, spec: { nodeName: node, containers: [] }, status: { phase: 'Running', podIP: '10.244.1.9', conditions: ready(true) } }) as Pod;

const matches = (p: Pod, selector: string): boolean =>
  selector === '' || selector.split(',').every((term) => { const [k, v] = term.split('='); return p.metadata.labels?.[k!] === v; });

/** Cluster "f": web (3 replicas, all Ready), its Service, a client on f-worker, two coredns Pods; sysctls per node. */
function scriptedCluster() {
  const objects: Record<string, KubeObject> = {
    'default/services/web': { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { clusterIP: '10.96.3.3', selector: { app: 'web' } } } as Service,
    'default/deployments/web': {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', generation: 1 },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'netexec', image: 'agnhost', readinessProbe: { httpGet: { path: '/healthz', port: 'http' } } }] } },
      },
      status: { observedGeneration: 1, replicas: 3, updatedReplicas: 3, readyReplicas: 3 },
    } as Deployment,
    'kube-system/configmaps/coredns': { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'coredns', namespace: 'kube-system' }, data: { Corefile: COREFILE } } as ConfigMap,
  };
  const pods: Pod[] = [
    pod('web-a', { app: 'web' }, 'f-worker'),
    pod('web-b', { app: 'web' }, 'f-worker2'),
    pod('client', { app: 'client' }, 'f-worker'),
    pod('coredns-a', { 'k8s-app': 'kube-dns' }, 'f-worker', 'kube-system'),
    pod('coredns-b', { 'k8s-app': 'kube-dns' }, 'f-worker2', 'kube-system'),
  ];
  const sysctls: Record<string, string> = { 'f-worker': '1', 'f-worker2': '1' };
  const calls: string[] = [];
  const env: WritableLabEnv = {
    cluster: 'f',
    config: defaultClusterConfig('f'),
    getObject: async (resource, name, namespace = 'default') => {
      const o = objects[`${namespace}/${resource}/${name}`];
      if (!o) throw new Error(`${resource} "${name}" not found`);
      return structuredClone(o);
    },
    nodes: async () => [],
    pods: async (selector, namespace = 'default') => pods.filter((p) => p.metadata.namespace === namespace && matches(p, selector)),
    runOnHost: async (argv) => (calls.push(`host: ${argv.join(' ')}`), { stdout: 'HTTP/1.1 200 OK\nHostname: api-1\n', stderr: '', code: 0 }),
    runOnNode: async (node, argv) => {
      calls.push(`${node}: ${argv.join(' ')}`);
      const set = /^net\.bridge\.bridge-nf-call-iptables=(\d)$/.exec(argv[2] ?? '');
      if (argv[0] === 'sysctl' && argv[1] === '-w' && set) sysctls[node] = set[1]!;
      return { stdout: argv[1] === '-n' ? `${sysctls[node]}\n` : '', stderr: '', code: 0 };
    },
    runInPod: async (p, argv) => (calls.push(`${p.metadata.name}: ${argv.join(' ')}`), { stdout: 'search default.svc.cluster.local svc.cluster.local cluster.local\n200\n200\n000\n', stderr: '', code: 0 }),
    patch: async (resource, namespace, name, patch) => {
      const key = `${namespace}/${resource}/${name}`;
      const patched = mergePatch(objects[key], patch) as KubeObject;
      // as the API server: a change of a Deployment's spec is a new generation
      if (resource === 'deployments' && 'spec' in (patch as object)) patched.metadata.generation = (patched.metadata.generation ?? 0) + 1;
      objects[key] = patched;
    },
  };
  return { env, objects, pods, sysctls, calls };
}

let stateRoot: string;
let savedRoot: string | undefined;

beforeAll(() => {
  savedRoot = process.env.KEMU_STATE_ROOT;
  stateRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'kemu-faults-'));
  process.env.KEMU_STATE_ROOT = stateRoot;
  fs.mkdirSync(path.join(stateRoot, 'f'));
});

afterAll(() => {
  if (savedRoot === undefined) delete process.env.KEMU_STATE_ROOT;
  else process.env.KEMU_STATE_ROOT = savedRoot;
  fs.rmSync(stateRoot, { recursive: true, force: true });
});

/** Inject `name`, expect the fault probe to refuse without naming it, repair, expect it named. */
async function roundTrip(name: string, repair: (c: ReturnType<typeof scriptedCluster>) => void, stillBroken?: (c: ReturnType<typeof scriptedCluster>) => void) {
  const c = scriptedCluster();
  const record = await injectFault(c.env, FAULT_NAMES, name);
  expect(readFault('f')).toEqual(record);
  const before = fixedFault(c.env);
  await expect(before).rejects.toThrow('the injected fault is still there');
  await before.catch((e: Error) => expect(e.message).not.toContain(name));
  if (stillBroken) {
    stillBroken(c);
    await expect(fixedFault(c.env)).rejects.toThrow('still there');
  }
  repair(c);
  expect(await fixedFault(c.env)).toMatch(new RegExp(`^${name}: `));
  return c;
}

describe('lab 08 faults', () => {
  it('selector-typo: the Service selects no Pod until its selector matches the web Pods again', async () => {
    await roundTrip(
      'selector-typo',
      (c) => ((c.objects['default/services/web'] as Service).spec.selector = { app: 'web' }),
      // a selector that matches other Pods is not a fix
      (c) => ((c.objects['default/services/web'] as Service).spec.selector = { app: 'client' }),
    );
  });

  it('readiness-failing: the probe port changes, and only a complete, Ready rollout counts as fixed', async () => {
    const c = await roundTrip(
      'readiness-failing',
      (c) => {
        const d = c.objects['default/deployments/web'] as Deployment;
        d.metadata.generation = 3;
        d.status = { observedGeneration: 3, replicas: 3, updatedReplicas: 3, readyReplicas: 3 };
      },
      (c) => {
        const d = c.objects['default/deployments/web'] as Deployment;
        d.metadata.generation = 2;
        d.status = { observedGeneration: 2, replicas: 4, updatedReplicas: 1, readyReplicas: 3 };
      },
    );
    const probe = (c.objects['default/deployments/web'] as Deployment).spec.template.spec.containers[0]!.readinessProbe;
    expect(probe?.httpGet?.port).not.toBe('http');
    expect(probe?.httpGet?.path).toBe('/healthz');
  });

  it('dns-not-ready: the Corefile loses `ready`; Ready Pods alone are not a fix until it is back', async () => {
    const c = await roundTrip(
      'dns-not-ready',
      (c) => {
        (c.objects['kube-system/configmaps/coredns'] as ConfigMap).data!.Corefile = COREFILE;
        for (const p of c.pods) p.status!.conditions = ready(true);
      },
      (c) => {
        expect((c.objects['kube-system/configmaps/coredns'] as ConfigMap).data!.Corefile).toBe(COREFILE.replace('    ready\n', ''));
        // the Pods still look Ready for a few probe periods after the edit
        for (const p of c.pods) p.status!.conditions = ready(true);
      },
    );
    expect(c.calls).toEqual([]);
  });

  it("bridge-nf-off: switched off on the client's node, fixed when that node says 1 again", async () => {
    const c = await roundTrip('bridge-nf-off', (c) => (c.sysctls['f-worker'] = '1'), (c) => (c.sysctls['f-worker2'] = '1'));
    expect(readFault('f')).toEqual({ name: 'bridge-nf-off', node: 'f-worker' });
    expect(c.calls[0]).toBe('f-worker: sysctl -w net.bridge.bridge-nf-call-iptables=0');
  });

  it('picks one of the choices at random, and refuses a wanted fault the lab does not list', async () => {
    const picked = new Set<string>();
    for (let i = 0; i < 40; i++) picked.add((await injectFault(scriptedCluster().env, ['selector-typo', 'bridge-nf-off'])).name);
    expect(picked).toEqual(new Set(['selector-typo', 'bridge-nf-off']));
    await expect(injectFault(scriptedCluster().env, ['selector-typo'], 'dns-not-ready')).rejects.toThrow(/faults are selector-typo; "dns-not-ready" is not one of them/);
  });

  it('names the fault in the check description only once it is fixed', async () => {
    const spec = parseLabSpec(
      `title: t
cluster: {}
manifests: [m.yaml]
faults: [selector-typo]
checks:
  - { id: fault-fixed, description: the injected fault is fixed, probe: { kind: fault }, expect: { matches: "." }, hint: look }
  - { id: healthy, atStart: true, description: d, probe: { kind: template, value: x }, expect: { equals: x }, hint: h }
`,
      't',
    );
    const c = scriptedCluster();
    await injectFault(c.env, spec.faults);
    const [broken] = await gradeLab(c.env, spec, {});
    expect(broken).toMatchObject({ passed: false, description: 'the injected fault is fixed', hint: 'look' });
    expect(JSON.stringify(broken)).not.toContain('selector');
    (c.objects['default/services/web'] as Service).spec.selector = { app: 'web' };
    const [fixed] = await gradeLab(c.env, spec, {});
    expect(fixed!.passed).toBe(true);
    expect(fixed!.description).toMatch(/^the injected fault is fixed — selector-typo: the web Service selected app=wbe/);
  });
});

describe('probe kinds of labs 05-08', () => {
  it('runs podCommand in a Pod picked by selector and namespace, with capture and count', async () => {
    const c = scriptedCluster();
    const from = { pod: 'k8s-app=kube-dns', namespace: 'kube-system' };
    expect(await runProbe(c.env, { kind: 'podCommand', from, argv: ['awk', '{print NF}', '/etc/resolv.conf'], capture: '^search (\\S+)', first: false })).toEqual(['default.svc.cluster.local']);
    expect(await runProbe(c.env, { kind: 'podCommand', from: { pod: 'app=client' }, argv: ['sh', '-c', 'curl {clusterIP:web}'], count: '^200$', first: false })).toEqual(['2']);
    expect(c.calls).toEqual(['coredns-a: awk {print NF} /etc/resolv.conf', 'client: sh -c curl 10.96.3.3']);
    await expect(runProbe(c.env, { kind: 'podCommand', from: { pod: 'app=none' }, argv: ['true'], first: false })).rejects.toThrow('no running Pod matches app=none');
  });

  it('runs hostCommand on the host and reads fields in another namespace', async () => {
    const c = scriptedCluster();
    expect(await runProbe(c.env, { kind: 'hostCommand', argv: ['curl', '-H', 'Host: api.example.test', 'http://x/'], capture: '^Hostname: (\\S+)', first: true })).toEqual(['api-1']);
    expect(c.calls).toEqual(['host: curl -H Host: api.example.test http://x/']);
    expect(await runProbe(c.env, { kind: 'field', resource: 'configmaps', namespace: 'kube-system', name: 'coredns', jsonpath: '{.metadata.namespace}' })).toEqual(['kube-system']);
  });

  it('parses the new kinds and the faults list, and names an unknown fault', () => {
    const spec = parseLabSpec(
      `title: t
cluster: {}
manifests: [m.yaml]
faults: [bridge-nf-off, dns-not-ready]
checks:
  - { id: a, atStart: true, description: d, probe: { kind: podCommand, from: { pod: app=client, namespace: kube-system }, argv: [dig], count: "^x" }, expect: { equals: "1" }, hint: h }
  - { id: b, description: d, probe: { kind: hostCommand, argv: [curl], capture: "(.)" }, expect: { empty: true }, hint: h }
`,
      't',
    );
    expect(spec.faults).toEqual(['bridge-nf-off', 'dns-not-ready']);
    expect(spec.checks.map((c) => c.atStart)).toEqual([true, false]);
    expect(spec.checks.map((c) => c.probe)).toEqual([
      { kind: 'podCommand', from: { pod: 'app=client', node: undefined, namespace: 'kube-system' }, argv: ['dig'], capture: undefined, first: false, count: '^x' },
      { kind: 'hostCommand', argv: ['curl'], capture: '(.)', first: false, count: undefined },
    ]);
    expect(parseLabSpec('title: t\ncluster: {}\nmanifests: [m]\nchecks: [{ id: a, description: d, probe: { kind: template, value: x }, expect: { empty: true }, hint: h }]\n', 't').faults).toEqual([]);
    expect(() => parseLabSpec('title: t\ncluster: {}\nmanifests: [m]\nfaults: [rp-filter]\nchecks: [{ id: a, atStart: true, description: d, probe: { kind: fault }, expect: { matches: "." }, hint: h }]\n', 'lab.yaml')).toThrow(
      /^lab\.yaml: faults\[0\]: unknown fault "rp-filter"; known: selector-typo, readiness-failing, dns-not-ready, bridge-nf-off$/,
    );
    expect(() => parseLabSpec('title: t\ncluster: {}\nmanifests: [m]\nfaults: [bridge-nf-off]\nchecks: [{ id: a, description: d, probe: { kind: fault }, expect: { matches: "." }, hint: h }]\n', 'lab.yaml')).toThrow(
      /^lab\.yaml: checks: a lab with faults needs checks marked atStart: true/,
    );
  });
});
