// hostPort on a real cluster, as kube-flannel's conflist gives it: the kubelet passes a Pod's host
// ports as portMappings and the reference portmap plugin, chained after kemu-cni, programs
// CNI-HOSTPORT-DNAT and a CNI-DN-<hash> chain in the node's namespace. The Pod answers on its node's
// underlay IP from the root namespace and from a Pod on the other node; deleting it removes its
// rules; the scheduler keeps a second Pod asking the same port off that node; and the ingress
// add-on answers on hostPort 80 of traefik's node. Uses the built CLI (dist/).

import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Container, Ingress, KubeObject, Pod } from '../../src/api/types.js';
import { INGRESS_NAME, INGRESS_NAMESPACE } from '../../src/cli/addons/ingress.js';
import { sandboxID } from '../../src/node/sandbox.js';
import { kemuCli } from './kemu-cli.js';
import { HEALTHZ_PROBE, HTTP_PORT, netexec, pinnedPod, service, writeManifest } from './support/manifests.js';
import { curlInPod, listPods } from './support/pods.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kemu-hostport-e2e-'));
const CLUSTER = `t-hp-${Math.random().toString(36).slice(2, 6)}`;
const UNDERLAY = `172.30.${10 + Math.floor(Math.random() * 200)}.0/24`;
const env = { ...process.env, KEMU_STATE_ROOT: root, KEMU_CLUSTER: CLUSTER };
const WORKER = `${CLUSTER}-worker`;
const CONTROL_PLANE = `${CLUSTER}-control-plane`;
const HOST_PORT = 8081;
const NO_FREE_PORTS = "node(s) didn't have free ports for the requested pod ports";

const cli = kemuCli(env, 120_000);
const { kemu, kemuOk } = cli;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls every 500 ms until probe returns a value; the error names what it waited for and what it last saw. */
async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}\n${(await kemu(['get', 'pods', '-A', '-o', 'wide'])).stdout}`);
    await sleep(500);
  }
}

function underlayIP(node: string): string {
  const [eth0] = JSON.parse(execFileSync('ip', ['-n', node, '-j', 'addr', 'show', 'eth0'], { encoding: 'utf8' })) as { addr_info: { family: string; local: string }[] }[];
  return eth0!.addr_info.find((x) => x.family === 'inet')!.local;
}

const natRules = (node: string) => execFileSync('ip', ['netns', 'exec', node, 'iptables-save', '-t', 'nat'], { encoding: 'utf8' });

/** curl from the root namespace (to a node of this cluster only), bounded in time. */
function curlFromHost(url: string, headers: string[] = []): Promise<string> {
  const args = ['-s', '--max-time', '2', ...headers.flatMap((h) => ['-H', h]), url];
  return new Promise((resolve) => execFile('curl', args, (_err, stdout) => resolve(stdout.trim())));
}

async function getPod(name: string, namespace = 'default'): Promise<Pod | undefined> {
  const r = await kemu(['get', 'pod', name, '-n', namespace, '-o', 'json']);
  return r.code === 0 ? (JSON.parse(r.stdout) as Pod) : undefined;
}

const running = (name: string) => async () => {
  const p = await getPod(name);
  return p?.status?.phase === 'Running' && p.status.podIP ? p : undefined;
};

/** netexec with HTTP on 8080 published as hostPort 8081, placed by the scheduler on the worker. */
function hostPortPod(name: string): Pod {
  const c: Container = { ...netexec('netexec', { readinessProbe: HEALTHZ_PROBE }), ports: [{ containerPort: 8080, hostPort: HOST_PORT }] };
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: 'hp' } }, spec: { nodeSelector: { 'kubernetes.io/hostname': WORKER }, containers: [c] } };
}

function apply(name: string, objects: KubeObject[]): Promise<string> {
  return kemuOk(['apply', '-f', writeManifest(root, name, objects)]);
}

let workerIP: string;
let first: Pod;

beforeAll(async () => {
  await kemuOk(['up', '--cluster', CLUSTER, '--nodes', '1', '--underlay-cidr', UNDERLAY], 240_000);
  workerIP = underlayIP(WORKER);
  await apply('pods', [hostPortPod('hp-a'), pinnedPod('client', CONTROL_PLANE, { app: 'client' }, netexec('netexec'))]);
  first = await waitFor('hp-a Running', 60_000, running('hp-a'));
  await waitFor('client Running', 60_000, running('client'));
}, 300_000);

afterAll(async () => {
  await kemu(['down', '--cluster', CLUSTER], 120_000);
  fs.rmSync(root, { recursive: true, force: true });
  expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })).not.toContain(CLUSTER);
}, 150_000);

describe('hostPort through the portmap plugin', () => {
  it('rejects a Pod taking one hostPort twice, naming the field', async () => {
    const pod = hostPortPod('kemut-dup');
    pod.spec.containers.push({ ...netexec('second'), ports: [{ containerPort: 9090, hostPort: HOST_PORT }] });
    const r = await kemu(['apply', '-f', writeManifest(root, 'dup', [pod])]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`spec.containers[1].ports[0].hostPort: Duplicate value: "TCP//${HOST_PORT}"`);
    expect(await getPod('kemut-dup')).toBeUndefined();
  });

  it('answers on the node IP from the root namespace and from a Pod on the other node', async () => {
    expect(first.spec.nodeName).toBe(WORKER);
    const fromHost = await waitFor('hp-a on the worker hostPort', 20_000, async () => ((await curlFromHost(`http://${workerIP}:${HOST_PORT}/hostname`)) === 'hp-a' ? 'hp-a' : undefined));
    expect(fromHost).toBe('hp-a');
    expect(await curlInPod(cli, 'client', `http://${workerIP}:${HOST_PORT}/hostname`, (b) => b === 'hp-a')).toBe('hp-a');
  });

  it("programs upstream's CNI-HOSTPORT chains with the sandbox's container id in the worker's namespace", () => {
    const nat = natRules(WORKER);
    const id = sandboxID(first.metadata.uid!);
    expect(nat).toContain('-A PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT');
    expect(nat).toContain('-A CNI-HOSTPORT-MASQ -m mark --mark 0x2000/0x2000 -j MASQUERADE');
    const jump = nat.split('\n').find((l) => l.startsWith('-A CNI-HOSTPORT-DNAT') && l.includes(`id: \\"${id}\\"`));
    expect(jump).toContain(`--dports ${HOST_PORT}`);
    const chain = /-j (CNI-DN-[0-9a-f]+)/.exec(jump ?? '')?.[1];
    expect(nat).toContain(`-A ${chain} -p tcp -m tcp --dport ${HOST_PORT} -j DNAT --to-destination ${first.status!.podIP}:8080`);
  });

  it('keeps a second Pod asking the same hostPort Pending, and places it once the first is deleted, whose rules go', async () => {
    await apply('second', [hostPortPod('hp-b')]);
    const message = await waitFor('hp-b unschedulable', 20_000, async () => (await getPod('hp-b'))?.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False')?.message);
    expect(message).toContain(`1 ${NO_FREE_PORTS}`);
    expect((await getPod('hp-b'))?.spec.nodeName).toBeUndefined();

    await kemuOk(['delete', 'pod', 'hp-a']);
    await waitFor('hp-a gone', 30_000, async () => ((await getPod('hp-a')) ? undefined : true));
    const nat = natRules(WORKER);
    expect(nat).not.toContain(sandboxID(first.metadata.uid!));
    expect(nat).not.toContain(`--to-destination ${first.status!.podIP}:8080`);

    const second = await waitFor('hp-b Running', 60_000, running('hp-b'));
    expect(second.spec.nodeName).toBe(WORKER);
    expect(await waitFor('hp-b on the hostPort', 20_000, async () => ((await curlFromHost(`http://${workerIP}:${HOST_PORT}/hostname`)) === 'hp-b' ? 'hp-b' : undefined))).toBe('hp-b');
  });

  it("answers as the ingress on hostPort 80 of traefik's node (the README's curl line)", async () => {
    const ingress: Ingress = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'foo' },
      spec: { rules: [{ host: 'foo.example', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'hp', port: { number: 80 } } } }] } }] },
    };
    await apply('ingress', [service('hp', { selector: { app: 'hp' }, ports: [HTTP_PORT] }), ingress]);
    const [traefik] = await listPods(cli, `app.kubernetes.io/name=${INGRESS_NAME}`, INGRESS_NAMESPACE);
    const nodeIP = underlayIP(traefik!.node);
    const body = await waitFor('foo.example through :80', 30_000, async () => {
      const b = await curlFromHost(`http://${nodeIP}/hostname`, ['Host: foo.example']);
      return b === 'hp-b' ? b : undefined;
    });
    expect(body).toBe('hp-b');
  });
});
