// Grading against a scripted cluster: expectations, questions whose true answer comes from the
// cluster (so a guess fails), answer files, and the --json shape checked against
// labs/check-result.schema.json.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultClusterConfig } from '../../src/api/cluster.js';
import type { KubeObject, Node, Pod } from '../../src/api/types.js';
import { loadAnswers, sameAnswer, saveAnswer } from '../../src/labs/answers.js';
import type { LabEnv } from '../../src/labs/env.js';
import { gradeLab } from '../../src/labs/grade.js';
import { expand } from '../../src/labs/placeholders.js';
import { formatResult, labResult } from '../../src/labs/result.js';
import { parseLabSpec } from '../../src/labs/spec.js';

const NAT = `-A KUBE-SERVICES -d 10.96.7.7/32 -p tcp -m comment --comment "default/web:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-AAAA
-A KUBE-SVC-AAAA -m comment --comment "default/web:http -> 10.244.1.5:8080" -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-ONE
-A KUBE-SVC-AAAA -m comment --comment "default/web:http -> 10.244.2.5:8080" -j KUBE-SEP-TWO
-A KUBE-SEP-ONE -p tcp -m tcp -j DNAT --to-destination 10.244.1.5:8080
-A KUBE-SEP-TWO -p tcp -m tcp -j DNAT --to-destination 10.244.2.5:8080
`;

const node = (name: string, ip: string, cidr: string): Node =>
  ({ metadata: { name }, spec: { podCIDR: cidr }, status: { addresses: [{ type: 'InternalIP', address: ip }] } }) as Node;
const pod = (name: string, nodeName: string, ip: string): Pod =>
  ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: 'web' } }, spec: { nodeName, containers: [] }, status: { phase: 'Running', podIP: ip } }) as Pod;

/** A cluster "t" with two nodes, two web Pods, a web Service; every host curl is refused. */
function scriptedEnv(): LabEnv & { podCalls: string[]; hostCalls: string[] } {
  const podCalls: string[] = [];
  const hostCalls: string[] = [];
  const objects: Record<string, KubeObject> = {
    'services/web': { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { clusterIP: '10.96.7.7', ports: [{ port: 80, nodePort: 30080 }] } } as KubeObject,
  };
  return {
    cluster: 't',
    config: { ...defaultClusterConfig('t'), underlayCIDR: '172.30.9.0/24' },
    podCalls,
    hostCalls,
    getObject: async (resource, name) => {
      const o = objects[`${resource}/${name}`];
      if (!o) throw new Error(`${resource} "${name}" not found`);
      return o;
    },
    nodes: async () => [node('t-worker', '172.30.9.3', '10.244.1.0/24'), node('t-worker2', '172.30.9.4', '10.244.2.0/24')],
    pods: async (selector) => (selector === 'app=web' ? [pod('web-a', 't-worker', '10.244.1.5'), pod('web-b', 't-worker2', '10.244.2.5')] : []),
    runOnHost: async (argv) => (hostCalls.push(argv.join(' ')), { stdout: '', stderr: `curl: (7) Failed to connect to ${argv.at(-1)}`, code: 7 }),
    runOnNode: async (n, argv) => (n === 't-worker' && argv[0] === 'iptables-save' ? { stdout: NAT, stderr: '', code: 0 } : { stdout: '', stderr: 'no such program', code: 1 }),
    runInPod: async (p, argv) => {
      podCalls.push(`${p.metadata.name} ${argv.at(-1)}`);
      // web-b cannot reach web-a: one failed pair in a mesh.
      return p.metadata.name === 'web-b' ? { stdout: '', stderr: 'timeout', code: 28 } : { stdout: 'web-b', stderr: '', code: 0 };
    },
    nodeComponents: async () => [],
  };
}

const LAB = parseLabSpec(
  `title: Scripted
cluster: { workers: 1 }
manifests: [m.yaml]
checks:
  - id: clusterip-field
    description: web's ClusterIP is the expected one
    probe: { kind: field, resource: services, name: web, jsonpath: "{.spec.clusterIP}" }
    expect: { equals: "10.96.7.7" }
    hint: h1
  - id: nodeport-refused
    description: the NodePort on the worker does not answer
    probe: { kind: http, url: "http://{nodeIP:worker}:{nodePort:web}/" }
    expect: { fails: true }
    hint: h2
  - id: mesh
    description: web Pods reach each other
    probe: { kind: mesh, selector: app=web, port: 8080, path: /hostname }
    expect: { empty: true }
    hint: fix the routes
  - id: from-pod
    description: a web Pod on worker reaches the ClusterIP
    probe: { kind: http, from: { pod: app=web, node: worker }, url: "http://{clusterIP:web}/hostname" }
    expect: { matches: "^web-" }
    hint: h4
questions:
  - id: sep-on-worker2
    ask: Which KUBE-SEP chain sends to the web Pod on worker2?
    answer: { kind: nodeCommand, node: worker, argv: [iptables-save, "-t", nat], capture: '^-A (KUBE-SEP-\\w+) .*--to-destination {podIP:app=web@worker2}:8080' }
    hint: read the DNAT rules
  - id: probability
    ask: The first probability?
    answer: { kind: nodeCommand, node: worker, argv: [iptables-save, "-t", nat], capture: 'probability ([0-9.]+)', first: true }
    hint: read the SVC chain
  - id: endpoint-rules
    ask: How many endpoint rules?
    answer: { kind: nodeCommand, node: worker, argv: [iptables-save, "-t", nat], count: '^-A KUBE-SVC-\\S+ -m comment --comment "default/web:http -> ' }
    hint: count
  - id: gateway
    ask: The host's address?
    answer: { kind: template, value: "{gateway}" }
    hint: the bridge
  - id: on-missing-node
    ask: Something on a node that does not answer?
    answer: { kind: nodeCommand, node: worker2, argv: [iptables-save] }
    hint: h
`,
  'scripted',
);

type Schema = { type?: string | string[]; const?: unknown; enum?: unknown[]; required?: string[]; properties?: Record<string, Schema>; additionalProperties?: boolean; items?: Schema; pattern?: string; minimum?: number };

/** The subset of JSON Schema the result schema uses; returns the paths that do not conform. */
function violations(schema: Schema, value: unknown, at = '$'): string[] {
  const typeOf = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : Number.isInteger(v) ? 'integer' : typeof v);
  const out: string[] = [];
  if (schema.const !== undefined && value !== schema.const) out.push(`${at}: not ${String(schema.const)}`);
  if (schema.enum && !schema.enum.includes(value)) out.push(`${at}: not one of ${schema.enum.join(',')}`);
  if (schema.type) {
    const types = [schema.type].flat();
    if (!types.includes(typeOf(value)) && !(types.includes('number') && typeof value === 'number')) out.push(`${at}: is ${typeOf(value)}`);
  }
  if (schema.pattern && typeof value === 'string' && !new RegExp(schema.pattern).test(value)) out.push(`${at}: does not match ${schema.pattern}`);
  if (schema.minimum !== undefined && typeof value === 'number' && value < schema.minimum) out.push(`${at}: below ${schema.minimum}`);
  if (typeOf(value) === 'object') {
    const obj = value as Record<string, unknown>;
    for (const r of schema.required ?? []) if (!(r in obj)) out.push(`${at}.${r}: missing`);
    for (const [k, v] of Object.entries(obj)) {
      const sub = schema.properties?.[k];
      if (sub) out.push(...violations(sub, v, `${at}.${k}`));
      else if (schema.additionalProperties === false) out.push(`${at}.${k}: not allowed`);
    }
  }
  if (Array.isArray(value) && schema.items) value.forEach((v, i) => out.push(...violations(schema.items!, v, `${at}[${i}]`)));
  return out;
}

const schema = JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, '../../labs/check-result.schema.json'), 'utf8')) as Schema;

describe('grading a lab', () => {
  it('passes and fails checks by their expectation, with hints only on failures', async () => {
    const env = scriptedEnv();
    const results = await gradeLab(env, LAB, {});
    const byId = Object.fromEntries(results.map((r) => [r.id, r]));
    expect(byId['clusterip-field']).toMatchObject({ passed: true });
    expect(byId['clusterip-field'].hint).toBeUndefined();
    expect(byId['nodeport-refused']).toMatchObject({ passed: true });
    expect(env.hostCalls).toEqual(['curl -sS --max-time 3 http://172.30.9.3:30080/']);
    expect(byId.mesh).toMatchObject({ passed: false, hint: 'fix the routes' });
    expect(byId.mesh.detail).toBe('"web-b (t-worker2) -> web-a (10.244.1.5 on t-worker)"');
    expect(byId['from-pod']).toMatchObject({ passed: true });
    expect(env.podCalls).toContain('web-a http://10.96.7.7/hostname');
  });

  it('fails every unanswered question with its hint, and passes true answers computed from the cluster', async () => {
    const env = scriptedEnv();
    const unanswered = await gradeLab(env, LAB, {});
    for (const q of unanswered.filter((r) => r.type === 'question')) expect(q).toMatchObject({ passed: false, answer: null, detail: 'no answer given' });
    const right = await gradeLab(env, LAB, { 'sep-on-worker2': 'kube-sep-two', probability: '0.5', 'endpoint-rules': '2', gateway: '172.30.9.1' });
    expect(right.filter((r) => r.type === 'question' && r.passed).map((r) => r.id)).toEqual(['sep-on-worker2', 'probability', 'endpoint-rules', 'gateway']);
  });

  it('fails a wrong answer without revealing the true one', async () => {
    const [sep] = (await gradeLab(scriptedEnv(), LAB, { 'sep-on-worker2': 'KUBE-SEP-ONE' })).filter((r) => r.id === 'sep-on-worker2');
    expect(sep).toMatchObject({ passed: false, answer: 'KUBE-SEP-ONE', hint: 'read the DNAT rules' });
    expect(JSON.stringify(sep)).not.toContain('KUBE-SEP-TWO');
  });

  it('says so when the cluster cannot compute a question\'s answer', async () => {
    const [q] = (await gradeLab(scriptedEnv(), LAB, { 'on-missing-node': 'x' })).filter((r) => r.id === 'on-missing-node');
    expect(q.passed).toBe(false);
    expect(q.detail).toMatch(/^the cluster is not in the state this question is about: iptables-save on t-worker2 failed/);
  });

  it('prints --json that follows labs/check-result.schema.json, and a readable report', async () => {
    const result = labResult('99-scripted', LAB.title, 't', await gradeLab(scriptedEnv(), LAB, { gateway: '172.30.9.1' }));
    expect(violations(schema, JSON.parse(JSON.stringify(result)))).toEqual([]);
    expect(result.passed).toBe(false);
    expect(result.summary).toEqual({ passed: 4, total: 9 });
    expect(violations(schema, { ...result, schemaVersion: 2, extra: 1 })).toEqual(['$.schemaVersion: not 1', '$.extra: not allowed']);
    const text = formatResult(result);
    expect(text).toMatch(/^FAIL  mesh: web Pods reach each other\n {6}seen: .*\n {6}hint: fix the routes$/m);
    expect(text).toContain('4/9 passed');
  });
});

describe('placeholders', () => {
  it('puts the first Pod IP into text, all of them into a regex, and all of them space-separated with podIPs', async () => {
    const env = scriptedEnv();
    expect(await expand(env, 'ping {podIP:app=web}', 'text')).toBe('ping 10.244.1.5');
    expect(await expand(env, '^{podIP:app=web}$', 'regex')).toBe('^(?:10\\.244\\.1\\.5|10\\.244\\.2\\.5)$');
    expect(await expand(env, 'for ip in {podIPs:app=web}; do', 'text')).toBe('for ip in 10.244.1.5 10.244.2.5; do');
    expect(await expand(env, '{podIPs:app=web@worker2}', 'text')).toBe('10.244.2.5');
  });
});

describe('answers', () => {
  it.each([
    ['0.25', '0.25000000000', true],
    [' "kube-svc-abc" ', 'KUBE-SVC-ABC', true],
    ['0.3', '0.33333333349', false],
    ['', '', false],
    ['10.244.1.0', '10.244.1.0/32', false],
  ])('%j against %j is %s', (given, truth, same) => {
    expect(sameAnswer(given, truth)).toBe(same);
  });

  it('keeps each answer as text in a YAML file, adding to what is there', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'kemu-labs-answers-')), 'a.yaml');
    expect(loadAnswers(file)).toEqual({});
    saveAnswer(file, 'first-probability', '0.25');
    saveAnswer(file, 'svc-chain', 'KUBE-SVC-X');
    expect(loadAnswers(file)).toEqual({ 'first-probability': '0.25', 'svc-chain': 'KUBE-SVC-X' });
    fs.writeFileSync(file, 'count: 12\nmac: 0a:88:2c:fd:d4:6a\n');
    expect(loadAnswers(file)).toEqual({ count: '12', mac: '0a:88:2c:fd:d4:6a' });
    fs.rmSync(path.dirname(file), { recursive: true });
  });
});
