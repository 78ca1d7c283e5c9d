// Lab 08's node-level faults on one real cluster (kemu up + the lab's manifests, shared by every
// case): each fault is injected as `kemu lab start 08` would, the lab's checks must show its
// symptom, the `fault` probe must not name it, the reference fix (kept here, not in labs/) is
// applied with the tools a student has, and then every check passes and the probe names it.
// Needs root.

import { execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findLab } from '../../src/labs/catalog.js';
import { liveLabEnv } from '../../src/labs/env.js';
import { fixedFault, injectFault, readFault } from '../../src/labs/faults.js';
import { gradeLab } from '../../src/labs/grade.js';
import type { Outcome } from '../../src/labs/result.js';
import type { LabSpec } from '../../src/labs/spec.js';
import { kemuCli } from './kemu-cli.js';

const isRoot = process.getuid?.() === 0;
const cluster = `t-lab8-${randomBytes(2).toString('hex')}`;
const underlay = `172.30.${randomInt(10, 250)}.0/24`;
const stateRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'kemu-lab08-'));
const { kemuOk } = kemuCli({ ...process.env, KEMU_STATE_ROOT: stateRoot, KEMU_CLUSTER: cluster }, 180_000);
const sh = (cmd: string, args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8', timeout: 30_000 });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let savedRoot: string | undefined;
let env: ReturnType<typeof liveLabEnv>;
let spec: LabSpec;
/** The lab's checks without the fault probe, which has no fault to look at in the healthy state. */
let symptoms: LabSpec;

const byId = (outcomes: Outcome[]) => Object.fromEntries(outcomes.map((o) => [o.id, o]));

/** Grade until want() holds (or the deadline); the last outcomes, by check id. */
async function gradeUntil(what: string, spec: LabSpec, want: (o: Record<string, Outcome>) => boolean, timeoutMs = 60_000): Promise<Record<string, Outcome>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const outcomes = byId(await gradeLab(env, spec, {}));
    if (want(outcomes)) return outcomes;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(Object.values(outcomes).map((o) => [o.id, o.passed, o.detail]))}`);
    await sleep(1000);
  }
}

const allPass = (o: Record<string, Outcome>) => Object.values(o).every((x) => x.passed);
const clientNode = async () => (await env.pods('app=client'))[0]!.spec.nodeName as string;

/** After the reference fix: every check passes, and the last one names the fault. */
async function expectFixed(name: string): Promise<void> {
  const outcomes = await gradeUntil(`${name} to be fixed`, spec, allPass);
  expect(outcomes['fault-fixed']!.description).toContain(`— ${name}: `);
}

beforeAll(async () => {
  if (!isRoot) return;
  savedRoot = process.env.KEMU_STATE_ROOT;
  process.env.KEMU_STATE_ROOT = stateRoot;
  await kemuOk(['up', '--nodes', '2', '--underlay-cidr', underlay]);
  const lab = findLab('08');
  spec = lab.spec;
  symptoms = { ...spec, checks: spec.checks.filter((c) => c.probe.kind !== 'fault') };
  for (const m of spec.manifests) await kemuOk(['apply', '-f', path.join(lab.dir, m)]);
  env = liveLabEnv(cluster);
  await gradeUntil('the starting state', symptoms, allPass, 120_000);
}, 240_000);

afterAll(async () => {
  if (!isRoot) return;
  env?.close();
  await kemuOk(['down']);
  if (savedRoot === undefined) delete process.env.KEMU_STATE_ROOT;
  else process.env.KEMU_STATE_ROOT = savedRoot;
  expect(sh('ip', ['netns', 'list'])).not.toContain(cluster);
  fs.rmSync(stateRoot, { recursive: true, force: true });
}, 120_000);

describe.skipIf(!isRoot)('lab 08 node faults on a real cluster', () => {
  it('missing-fdb-entry: requests to one node\'s Pods die on the client\'s node until the entry is back; flannel does not put it back by itself', async () => {
    const record = await injectFault(env, spec.faults, 'missing-fdb-entry');
    const node = await clientNode();
    expect(record.node).toBe(node);
    const peerMAC = sh('ip', ['netns', 'exec', record.peer!, 'cat', '/sys/class/net/flannel.1/address']).trim();
    expect(sh('ip', ['netns', 'exec', node, 'bridge', 'fdb', 'show', 'dev', 'flannel.1'])).not.toContain(peerMAC);
    await gradeUntil('the symptom', symptoms, (o) => !o['full-size-packets']!.passed && !o['every-request-answered']!.passed);
    await expect(fixedFault(env)).rejects.toThrow('still there');
    // more than flannel's 10 s check period: the vxlan backend, as the real one, does not resync its entries
    await sleep(11_000);
    await expect(fixedFault(env)).rejects.toThrow('still there');

    const peerIP = (await env.nodes()).find((n) => n.metadata.name === record.peer)!.metadata.annotations!['flannel.alpha.coreos.com/public-ip']!;
    sh('ip', ['netns', 'exec', node, 'bridge', 'fdb', 'append', peerMAC, 'dev', 'flannel.1', 'dst', peerIP]);
    await expectFixed('missing-fdb-entry');
  }, 150_000);

  it('mtu-mismatch: small requests are answered, full-size packets from other nodes are lost, until eth0 has the underlay MTU again', async () => {
    const record = await injectFault(env, spec.faults, 'mtu-mismatch');
    const broken = await gradeUntil('the symptom', symptoms, (o) => !o['full-size-packets']!.passed);
    // only size: every small request through the ClusterIP still gets its answer
    expect(broken['every-request-answered']!.passed).toBe(true);
    // the client's own node's web Pod still answers full-size pings; the two others do not
    expect(broken['full-size-packets']!.detail).toContain('"1"');
    // flannel read the MTU at start and keeps flannel.1 as it was
    expect(sh('ip', ['netns', 'exec', record.node!, 'cat', '/sys/class/net/flannel.1/mtu']).trim()).toBe('1450');
    await expect(fixedFault(env)).rejects.toThrow('still there');

    sh('ip', ['netns', 'exec', record.node!, 'ip', 'link', 'set', 'eth0', 'mtu', '1500']);
    await expectFixed('mtu-mismatch');
  }, 150_000);

  it('kube-proxy-stopped: the node keeps stale rules after a rollout; kemu status shows it; kemu component start fixes it', async () => {
    const record = await injectFault(env, spec.faults, 'kube-proxy-stopped');
    const node = record.node!;
    expect(await kemuOk(['component', 'status', 'kube-proxy', '--node', node])).toMatch(new RegExp(`${node}\\s+kube-proxy\\s+inactive \\(dead\\)`));
    expect(await kemuOk(['status'])).toContain(`Node ${node}: kubelet Ready`);
    expect(await kemuOk(['status'])).toMatch(new RegExp(`Node ${node}: .*kube-proxy inactive \\(dead\\)`));
    // stopped, as the real daemon: its rules stay, its healthz does not answer
    expect(sh('ip', ['netns', 'exec', node, 'iptables-save', '-t', 'nat'])).toContain('-A KUBE-SERVICES');
    const healthz = (() => {
      try {
        return sh('ip', ['netns', 'exec', node, 'curl', '-s', '--max-time', '1', 'http://127.0.0.1:10256/healthz']);
      } catch {
        return 'no answer';
      }
    })();
    expect(healthz).toBe('no answer');
    // once the rollout is done, the client's requests go to the old Pods' IPs (each waits out its 1 s)
    const broken = await gradeUntil('the symptom', symptoms, (o) => !o['every-request-answered']!.passed && o['web-ready']!.passed);
    expect(broken['dns-answers']!.passed).toBe(true);
    const rules = sh('ip', ['netns', 'exec', node, 'iptables-save', '-t', 'nat']);
    for (const p of (await env.pods('app=web')).filter((p) => !p.metadata.deletionTimestamp)) expect(rules).not.toContain(`${p.status!.podIP}:8080`);
    await expect(fixedFault(env)).rejects.toThrow('still there');

    expect(await kemuOk(['component', 'start', 'kube-proxy', '--node', node])).toMatch(/kube-proxy\s+active \(running\)/);
    await expectFixed('kube-proxy-stopped');
    expect(readFault(cluster)).toEqual(record);
  }, 150_000);

  it('names the node and component in errors, and changes nothing', async () => {
    const r = await kemuCli({ ...process.env, KEMU_STATE_ROOT: stateRoot, KEMU_CLUSTER: cluster }).kemu(['component', 'stop', 'kube-proxy', '--node', `${cluster}-worker9`]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`node "${cluster}-worker9" is not a node of cluster "${cluster}"`);
    expect(await kemuOk(['component', 'status'])).not.toContain('inactive');
  });
});
