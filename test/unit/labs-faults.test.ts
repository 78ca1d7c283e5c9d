// Lab 08's faults against a scripted cluster: each one breaks what it says, is not "fixed" until
// the cluster works again, and is named by the `fault` probe only once fixed. Also the probe kinds
// labs 05-08 added (podCommand, hostCommand, field in another namespace) and the faults list of
// lab.yaml.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultClusterConfig } from '../../src/api/cluster.js';
import type { ConfigMap, Deployment, KubeObject, Node, Pod, PodCondition, Service } from '../../src/api/types.js';
import type { ComponentState } from '../../src/cli/node-control.js';
import type { WritableLabEnv } from '../../src/labs/env.js';
import { parseFdb, unreachablePeers } from '../../src/labs/fdb.js';
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

const ready = (ok: boolean): PodCondition[] => [{ type: 'Ready', status: ok ? 'True' : 'False' }];

const pod = (name: string, labels: Record<string, string>, node: string, namespace = 'default'): Pod =>
  ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace, labels }, spec: { nodeName: node, containers: [] }, status: { phase: 'Running', podIP: '10.244.1.9', conditions: ready(true) } }) as Pod;

const matches = (p: Pod, selector: string): boolean =>
  selector === '' || selector.split(',').every((term) => { const [k, v] = term.split('='); return p.metadata.labels?.[k!] === v; });

const MAC = { 'f-worker': '0a:00:00:00:00:01', 'f-worker2': '0a:00:00:00:00:02' } as const;
const PUBLIC_IP = { 'f-worker': '172.30.9.3', 'f-worker2': '172.30.9.4' } as const;
type NodeName = keyof typeof MAC;

/** A Node as flannel annotates it (kube subnet manager lease, vxlan). */
const leaseNode = (name: NodeName, subnet: string): Node =>
  ({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: {
        'flannel.alpha.coreos.com/kube-subnet-manager': 'true',
        'flannel.alpha.coreos.com/backend-type': 'vxlan',
        'flannel.alpha.coreos.com/public-ip': PUBLIC_IP[name],
        'flannel.alpha.coreos.com/backend-data': JSON.stringify({ VNI: 1, VtepMAC: MAC[name] }),
      },
    },
    spec: { podCIDR: subnet },
  }) as Node;

/**
 * Cluster "f": web (3 replicas, all Ready), its Service, a client on f-worker, two coredns Pods;
 * per node sysctls, eth0 MTU, flannel.1's FDB and the node agent's components. The network is a
 * model: a full-size ping from the client is answered when every eth0 has the bridge's MTU, a
 * request through the ClusterIP when kube-proxy runs on the client's node.
 */
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
  const mtu: Record<string, number> = { 'f-worker': 1500, 'f-worker2': 1500 };
  // what `bridge fdb show dev flannel.1` prints on each node: the other node's VTEP
  const fdb: Record<string, string[]> = {
    'f-worker': [`${MAC['f-worker2']} dst ${PUBLIC_IP['f-worker2']} self permanent`],
    'f-worker2': [`${MAC['f-worker']} dst ${PUBLIC_IP['f-worker']} self permanent`],
  };
  const components: Record<string, ComponentState[]> = {};
  for (const n of ['f-worker', 'f-worker2']) components[n] = ['flannel', 'kube-proxy'].map((name) => ({ name: name as ComponentState['name'], active: true, since: 't0' }));
  const kubeProxyRuns = (node: string) => components[node]!.some((c) => c.name === 'kube-proxy' && c.active);
  const calls: string[] = [];
  const env: WritableLabEnv = {
    cluster: 'f',
    config: defaultClusterConfig('f'),
    getObject: async (resource, name, namespace = 'default') => {
      const o = objects[`${namespace}/${resource}/${name}`];
      if (!o) throw new Error(`${resource} "${name}" not found`);
      return structuredClone(o);
    },
    nodes: async () => [leaseNode('f-worker', '10.244.1.0/24'), leaseNode('f-worker2', '10.244.2.0/24')],
    pods: async (selector, namespace = 'default') => pods.filter((p) => p.metadata.namespace === namespace && matches(p, selector)),
    runOnHost: async (argv) => {
      calls.push(`host: ${argv.join(' ')}`);
      if (argv.join(' ') === 'ip -j link show kemu-f') return { stdout: '[{"ifname":"kemu-f","mtu":1500}]', stderr: '', code: 0 };
      return { stdout: 'HTTP/1.1 200 OK\nHostname: api-1\n', stderr: '', code: 0 };
    },
    runOnNode: async (node, argv) => {
      calls.push(`${node}: ${argv.join(' ')}`);
      const line = argv.join(' ');
      const del = /^bridge fdb del (\S+) dev flannel\.1 dst (\S+)$/.exec(line);
      if (del) {
        fdb[node] = fdb[node]!.filter((e) => !e.startsWith(`${del[1]} dst ${del[2]} `));
        return { stdout: '', stderr: '', code: 0 };
      }
      if (line === 'bridge fdb show dev flannel.1') return { stdout: fdb[node]!.map((e) => `${e}\n`).join(''), stderr: '', code: 0 };
      const setMtu = /^ip link set eth0 mtu (\d+)$/.exec(line);
      if (setMtu) mtu[node] = Number(setMtu[1]);
      if (line === 'ip -j link show eth0') return { stdout: JSON.stringify([{ ifname: 'eth0', mtu: mtu[node] }]), stderr: '', code: 0 };
      const set = /^net\.bridge\.bridge-nf-call-iptables=(\d)$/.exec(argv[2] ?? '');
      if (argv[0] === 'sysctl' && argv[1] === '-w' && set) sysctls[node] = set[1]!;
      return { stdout: argv[1] === '-n' ? `${sysctls[node]}\n` : '', stderr: '', code: 0 };
    },
    runInPod: async (p, argv) => {
      calls.push(`${p.metadata.name}: ${argv.join(' ')}`);
      if (argv[0] === 'ping') return { stdout: '', stderr: '', code: Object.values(mtu).every((m) => m === 1500) ? 0 : 1 };
      if (argv[0] === 'sh' && argv[2]?.includes('http://10.96.3.3/hostname')) {
        const code = kubeProxyRuns(p.spec.nodeName as string) ? '200' : '000';
        return { stdout: `${code}\n`.repeat(Number(/seq (\d+)/.exec(argv[2])![1])), stderr: '', code: 0 };
      }
      return { stdout: 'search default.svc.cluster.local svc.cluster.local cluster.local\n200\n200\n000\n', stderr: '', code: 0 };
    },
    nodeComponents: async (node) => structuredClone(components[node]!),
    stopComponent: async (node, component) => {
      calls.push(`${node}: stop ${component}`);
      for (const c of components[node]!) if (c.name === component) c.active = false;
    },
    patch: async (resource, namespace, name, patch) => {
      const key = `${namespace}/${resource}/${name}`;
      const patched = mergePatch(objects[key], patch) as KubeObject;
      // as the API server: a change of a Deployment's spec is a new generation
      if (resource === 'deployments' && 'spec' in (patch as object)) patched.metadata.generation = (patched.metadata.generation ?? 0) + 1;
      objects[key] = patched;
    },
  };
  return { env, objects, pods, sysctls, mtu, fdb, components, calls };
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

  it("missing-fdb-entry: the client's node loses the entry for a peer with a web Pod; fixed when every peer has one pointing at its public IP", async () => {
    const peerEntry = `${MAC['f-worker2']} dst ${PUBLIC_IP['f-worker2']} self permanent`;
    const c = await roundTrip(
      'missing-fdb-entry',
      (c) => (c.fdb['f-worker'] = [peerEntry]),
      // the right MAC pointing at the wrong node is not a fix
      (c) => (c.fdb['f-worker'] = [`${MAC['f-worker2']} dst ${PUBLIC_IP['f-worker']} self permanent`]),
    );
    expect(readFault('f')).toEqual({ name: 'missing-fdb-entry', node: 'f-worker', peer: 'f-worker2' });
    expect(c.calls[0]).toBe(`f-worker: bridge fdb del ${MAC['f-worker2']} dev flannel.1 dst ${PUBLIC_IP['f-worker2']}`);
    expect(c.fdb['f-worker2']).toHaveLength(1);
  });

  it("mtu-mismatch: the client's node's eth0 goes to 1400; fixed when it has the bridge's MTU and full-size pings come back", async () => {
    const c = await roundTrip(
      'mtu-mismatch',
      (c) => (c.mtu['f-worker'] = 1500),
      (c) => (c.mtu['f-worker'] = 1450),
    );
    expect(c.calls[0]).toBe('f-worker: ip link set eth0 mtu 1400');
    // 1450 (the vxlan Pod MTU of a 1500 underlay) less 28 bytes of IPv4 + ICMP headers, DF set
    expect(c.calls.filter((x) => x.startsWith('client: ping'))).toContain('client: ping -c 2 -i 0.2 -W 1 -M do -s 1422 10.244.1.9');
    const c2 = scriptedCluster();
    await injectFault(c2.env, FAULT_NAMES, 'mtu-mismatch');
    // eth0 back to the bridge's MTU, but a full-size ping still lost (say a Pod with a wrong MTU): not fixed
    c2.mtu['f-worker'] = 1500;
    c2.mtu['f-worker2'] = 9000;
    await expect(fixedFault(c2.env)).rejects.toThrow('still there');
  });

  it("kube-proxy-stopped: kube-proxy stops on the client's node and web rolls; answered requests alone are not a fix while it stays stopped", async () => {
    const c = await roundTrip(
      'kube-proxy-stopped',
      (c) => (c.components['f-worker']!.find((x) => x.name === 'kube-proxy')!.active = true),
      (c) => ((c.pods.find((p) => p.metadata.name === 'client')!.spec.nodeName = 'f-worker2')),
    );
    expect(c.calls[0]).toBe('f-worker: stop kube-proxy');
    const annotations = (c.objects['default/deployments/web'] as Deployment).spec.template.metadata?.annotations ?? {};
    expect(annotations['kubectl.kubernetes.io/restartedAt']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect((c.objects['default/deployments/web'] as Deployment).metadata.generation).toBe(2);
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
      /^lab\.yaml: faults\[0\]: unknown fault "rp-filter"; known: selector-typo, readiness-failing, dns-not-ready, bridge-nf-off, missing-fdb-entry, mtu-mismatch, kube-proxy-stopped$/,
    );
    expect(() => parseLabSpec('title: t\ncluster: {}\nmanifests: [m]\nfaults: [bridge-nf-off]\nchecks: [{ id: a, description: d, probe: { kind: fault }, expect: { matches: "." }, hint: h }]\n', 'lab.yaml')).toThrow(
      /^lab\.yaml: checks: a lab with faults needs checks marked atStart: true/,
    );
  });
});

describe('reading a VXLAN FDB', () => {
  const text = [
    '0a:00:00:00:00:02 dst 172.30.9.4 self permanent',
    '0A:00:00:00:00:03 dst 172.30.9.5 self permanent',
    '33:33:00:00:00:01 self permanent',
    '',
  ].join('\n');

  it('keeps entries with a remote destination, MACs lower-cased', () => {
    expect(parseFdb(text)).toEqual([
      { mac: '0a:00:00:00:00:02', dst: '172.30.9.4' },
      { mac: '0a:00:00:00:00:03', dst: '172.30.9.5' },
    ]);
  });

  it('names the vxlan peers without an entry to their public IP, never the node itself or other backends', () => {
    const lease = (node: string, mac: string, ip: string, backendType = 'vxlan') => ({ node, subnet: '10.244.9.0/24', publicIP: ip, backendType, vtepMAC: mac });
    const leases = [
      lease('self', '0a:00:00:00:00:01', '172.30.9.3'),
      lease('b', '0a:00:00:00:00:02', '172.30.9.4'),
      lease('c', '0a:00:00:00:00:03', '172.30.9.9'),
      lease('d', '0a:00:00:00:00:04', '172.30.9.6'),
      lease('e', '0a:00:00:00:00:05', '172.30.9.7', 'host-gw'),
    ];
    expect(unreachablePeers(parseFdb(text), leases, 'self').map((l) => l.node)).toEqual(['c', 'd']);
  });
});
