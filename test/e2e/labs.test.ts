// Every lab end to end, as a student does it: `kemu lab start`, the README's ```sh blocks run as
// written (only the cluster name and underlay swapped for this test's own), the checker failing on
// the starting state with the expected ids, the reference solution (kept here, not in labs/), the
// checker passing with --json, `kemu lab reset` bringing the starting state back, teardown.

import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const repo = path.resolve(import.meta.dirname, '../..');
const CLI = path.join(repo, 'dist/cli/main.js');
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kemu-labs-e2e-'));
const bin = path.join(root, 'bin');
const home = path.join(root, 'home');
fs.mkdirSync(bin);
fs.mkdirSync(home);
fs.writeFileSync(path.join(bin, 'kemu'), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`, { mode: 0o755 });
const suffix = Math.random().toString(36).slice(2, 6);
const UNDERLAY = `172.30.${10 + Math.floor(Math.random() * 200)}.0/24`;
const started = new Set<string>();
/** Files the labs' steps leave on the host, removed at the end. */
const leftovers: string[] = [];

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Extra environment of a case's cluster (KEMU_LAB_FAULT for lab 08). */
const clusterEnv = new Map<string, Record<string, string>>();

function envFor(cluster: string): NodeJS.ProcessEnv {
  return { ...process.env, KEMU_STATE_ROOT: root, KEMU_CLUSTER: cluster, HOME: home, PATH: `${bin}:${process.env.PATH}`, ...clusterEnv.get(cluster) };
}

function run(cmd: string, args: string[], cluster: string, timeout = 180_000): Promise<Result> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: repo, env: envFor(cluster), timeout, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

async function kemuOk(cluster: string, args: string[]): Promise<string> {
  const r = await run(process.execPath, [CLI, ...args], cluster);
  if (r.code !== 0) throw new Error(`kemu ${args.join(' ')} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

const sh = (cmd: string, args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8' });

/** The README's ```sh blocks, as one script, with the lab cluster's name and underlay swapped for the test's. */
function readmeScript(lab: string, cluster: string): string {
  const text = fs.readFileSync(path.join(repo, 'labs', lab, 'README.md'), 'utf8');
  const blocks = [...text.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
  expect(blocks.length).toBeGreaterThan(0);
  return blocks
    .join('\n')
    .replace(/KEMU_CLUSTER=lab\b/g, `KEMU_CLUSTER=${cluster}`)
    .replace(/\blab-(control-plane|worker\d*)\b/g, `${cluster}-$1`)
    .replace(/kemu lab start (\d\d)/g, `kemu lab start $1 --underlay-cidr ${UNDERLAY}`);
}

interface CheckJson {
  passed: boolean;
  results: { id: string; type: 'check' | 'question'; description: string; passed: boolean; hint?: string }[];
}

async function check(cluster: string, lab: string): Promise<{ code: number; json: CheckJson }> {
  const r = await run(process.execPath, [CLI, 'lab', 'check', lab, '--json'], cluster);
  return { code: r.code, json: JSON.parse(r.stdout) as CheckJson };
}

const failing = (json: CheckJson, type?: 'check'): string[] =>
  json.results.filter((r) => !r.passed && (type === undefined || r.type === type)).map((r) => r.id).sort();

interface PodJson {
  metadata: { name: string };
  spec: { nodeName: string };
  status: { podIP: string };
}

async function pods(cluster: string, selector: string): Promise<PodJson[]> {
  return (JSON.parse(await kemuOk(cluster, ['get', 'pods', '-l', selector, '-o', 'json'])) as { items: PodJson[] }).items;
}

async function nodeField(cluster: string, node: string, jsonpath: string): Promise<string> {
  return (await kemuOk(cluster, ['get', 'node', `${cluster}-${node}`, '-o', `jsonpath={${jsonpath}}`])).trim();
}

async function answer(cluster: string, lab: string, answers: Record<string, string>): Promise<void> {
  for (const [q, v] of Object.entries(answers)) await kemuOk(cluster, ['lab', 'answer', lab, q, v]);
}

interface LabCase {
  lab: string;
  env?: Record<string, string>;
  /** Failing ids after the README's steps, before the solution. */
  failingAfterSteps: string[];
  solve(cluster: string): Promise<void>;
  /** Failing checks right after `kemu lab reset` (questions aside: a rebuilt cluster may have new addresses and chains). */
  failingAfterReset: string[];
}

const CASES: LabCase[] = [
  {
    lab: '01',
    failingAfterSteps: ['cni0-address', 'route-to-worker2', 'vtep-mac-of-worker2', 'vxlan-port'],
    async solve(c) {
      const [cni0] = JSON.parse(sh('ip', ['-n', `${c}-worker`, '-4', '-j', 'addr', 'show', 'cni0'])) as { addr_info: { local: string; prefixlen: number }[] }[];
      const [vtep] = JSON.parse(sh('ip', ['-n', `${c}-worker2`, '-j', 'link', 'show', 'flannel.1'])) as { address: string }[];
      const [vx] = JSON.parse(sh('ip', ['-n', `${c}-worker`, '-d', '-j', 'link', 'show', 'flannel.1'])) as { linkinfo: { info_data: { port: number } } }[];
      const cidr = await nodeField(c, 'worker2', '.spec.podCIDR');
      const routes = JSON.parse(sh('ip', ['-n', `${c}-worker`, '-j', 'route'])) as { dst: string; gateway?: string }[];
      await answer(c, '01', {
        'cni0-address': `${cni0.addr_info[0].local}/${cni0.addr_info[0].prefixlen}`,
        'route-to-worker2': routes.find((r) => r.dst === cidr)!.gateway!,
        'vtep-mac-of-worker2': vtep.address,
        'vxlan-port': String(vx.linkinfo.info_data.port),
      });
    },
    failingAfterReset: [],
  },
  {
    lab: '02',
    failingAfterSteps: ['first-probability', 'sep-chain-on-worker2', 'svc-chain'],
    async solve(c) {
      const nat = sh('ip', ['netns', 'exec', `${c}-worker`, 'iptables-save', '-t', 'nat']);
      const onWorker2 = (await pods(c, 'app=web')).find((p) => p.spec.nodeName === `${c}-worker2`)!;
      await answer(c, '02', {
        'svc-chain': /"default\/web:http cluster IP".* -j (KUBE-SVC-\w+)/.exec(nat)![1],
        'sep-chain-on-worker2': new RegExp(`-A (KUBE-SEP-\\w+) .*--to-destination ${onWorker2.status.podIP}:8080`).exec(nat)![1],
        'first-probability': String(1 / 4),
      });
    },
    failingAfterReset: ['four-endpoint-chains', 'web-scaled-to-4'],
  },
  {
    lab: '03',
    failingAfterSteps: ['clientip-local', 'clientip-via-worker'],
    async solve(c) {
      // flannel gives flannel.1 the network address of the node's subnet; the host is the underlay's first address.
      const workerNet = (await nodeField(c, 'worker', '.spec.podCIDR')).split('/')[0];
      await answer(c, '03', { 'clientip-via-worker': workerNet, 'clientip-local': UNDERLAY.replace(/\.0\/24$/, '.1') });
    },
    failingAfterReset: ['no-local-endpoint-drops', 'source-ip-preserved', 'traffic-policy-local'],
  },
  {
    lab: '04',
    failingAfterSteps: ['service-ips-elements', 'web-service-chain'],
    async solve(c) {
      // one element per ClusterIP and port, in every namespace (kube-dns and traefik included)
      const services = (JSON.parse(await kemuOk(c, ['get', 'svc', '-A', '-o', 'json'])) as { items: { spec: { ports?: unknown[] } }[] }).items;
      const elements = services.reduce((n, svc) => n + (svc.spec.ports?.length ?? 0), 0);
      const table = sh('ip', ['netns', 'exec', `${c}-worker`, 'nft', 'list', 'table', 'ip', 'kube-proxy']);
      await answer(c, '04', {
        'service-ips-elements': String(elements),
        'web-service-chain': /chain (service-\w+-default\/web\/tcp\/http) \{/.exec(table)![1],
      });
    },
    failingAfterReset: ['more-services'],
  },
  {
    lab: '05',
    failingAfterSteps: ['ptr-of-clusterip', 'queries-for-short-name', 'srv-target'],
    async solve(c) {
      const resolv = await kemuOk(c, ['exec', 'client', '--', 'cat', '/etc/resolv.conf']);
      const searchDomains = /^search (.*)$/m.exec(resolv)![1].trim().split(/\s+/);
      const [webPod] = await pods(c, 'app=web');
      await answer(c, '05', {
        'srv-target': `${webPod.status.podIP.replaceAll('.', '-')}.web-headless.default.svc.cluster.local`,
        'ptr-of-clusterip': 'web.default.svc.cluster.local',
        // every search domain, then the name as written
        'queries-for-short-name': String(searchDomains.length + 1),
      });
    },
    failingAfterReset: ['queries-are-logged', 'stub-domain-resolves'],
  },
  {
    lab: '06',
    failingAfterSteps: ['api-pod', 'default-cert-fingerprint'],
    async solve(c) {
      const node = await nodeField(c, 'worker', '.status.addresses[0].address');
      const [apiPod] = await pods(c, 'app=api');
      const served = sh('sh', ['-c', `openssl s_client -connect ${node}:30443 -servername unknown.example.test </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256`]);
      await answer(c, '06', { 'api-pod': apiPod.metadata.name, 'default-cert-fingerprint': served.trim().split('=')[1] });
    },
    failingAfterReset: ['exact-beats-prefix', 'host-routes', 'tls-by-sni'],
  },
  {
    lab: '07',
    failingAfterSteps: ['affinity-seconds', 'sticky-pod'],
    async solve(c) {
      const sticky = (await kemuOk(c, ['exec', 'client', '--', 'curl', '-s', 'http://web/hostname'])).trim();
      // the readiness file of step 5 lives in the host's /tmp (kemu's Pods share its filesystem)
      for (const p of await pods(c, 'app=web')) leftovers.push(`/tmp/kemu-unready-${p.metadata.name}`);
      // sessionAffinityConfig.clientIP.timeoutSeconds defaults to 3 hours
      await answer(c, '07', { 'affinity-seconds': String(3 * 60 * 60), 'sticky-pod': sticky });
    },
    failingAfterReset: ['client-sticks', 'surge-rollout', 'unready-pod-out-of-rules'],
  },
  {
    lab: '08',
    env: { KEMU_LAB_FAULT: 'selector-typo' },
    failingAfterSteps: ['every-request-answered', 'fault-fixed'],
    async solve(c) {
      const faultCheck = async () => (await check(c, '08')).json.results.find((r) => r.id === 'fault-fixed')!;
      expect((await faultCheck()).description).not.toMatch(/selector/);
      await kemuOk(c, ['patch', 'service', 'web', '-p', '{"spec":{"selector":{"app":"web"}}}']);
      // kube-proxy's rules follow the new EndpointSlice within a sync
      await new Promise((r) => setTimeout(r, 2000));
      expect((await faultCheck()).description).toMatch(/selector-typo: the web Service selected app=wbe/);
    },
    failingAfterReset: ['every-request-answered', 'fault-fixed'],
  },
  {
    lab: '09',
    failingAfterSteps: ['next-hop-for-control-plane', 'pods-reach-each-other'],
    async solve(c) {
      const roles = ['control-plane', 'worker', 'worker2'];
      for (const from of roles) {
        for (const to of roles.filter((r) => r !== from)) {
          sh('ip', ['-n', `${c}-${from}`, 'route', 'replace', await nodeField(c, to, '.spec.podCIDR'), 'via', await nodeField(c, to, '.status.addresses[0].address')]);
        }
      }
      await answer(c, '09', { 'next-hop-for-control-plane': await nodeField(c, 'control-plane', '.status.addresses[0].address') });
    },
    failingAfterReset: ['pods-reach-each-other', 'worker-routes-to-worker2'],
  },
];

afterAll(async () => {
  for (const c of started) await run(process.execPath, [CLI, 'down'], c);
  for (const f of leftovers) fs.rmSync(f, { force: true });
  fs.rmSync(root, { recursive: true, force: true });
  // a cluster left by a failed case takes a few seconds to take down
}, 300_000);

describe('kemu lab, every lab as documented', () => {
  it('lists the labs', async () => {
    const out = await kemuOk(`tl-${suffix}`, ['lab', 'list']);
    for (const c of CASES) expect(out).toMatch(new RegExp(`^${c.lab}-\\S+ +3 nodes, `, 'm'));
  });

  it.each(CASES)('lab $lab: README steps, failing checks with hints, solution, pass, reset', async (c) => {
    const cluster = `tl${c.lab}-${suffix}`;
    started.add(cluster);
    if (c.env) clusterEnv.set(cluster, c.env);
    const steps = await run('bash', ['-e', '-o', 'pipefail', '-c', readmeScript(c.lab === '09' ? '09-overlay-by-hand' : fs.readdirSync(path.join(repo, 'labs')).find((d) => d.startsWith(`${c.lab}-`))!, cluster)], cluster);
    expect(steps.stderr + steps.stdout).not.toMatch(/^error:/m);
    expect(steps.code, `${steps.stdout}\n${steps.stderr}`.slice(-3000)).toBe(0);

    const before = await check(cluster, c.lab);
    expect(before.code).toBe(1);
    expect(failing(before.json)).toEqual(c.failingAfterSteps);
    for (const r of before.json.results.filter((x) => !x.passed)) expect(r.hint?.length).toBeGreaterThan(0);

    await c.solve(cluster);
    const after = await check(cluster, c.lab);
    expect(failing(after.json)).toEqual([]);
    expect(after.json.passed).toBe(true);
    expect(after.code).toBe(0);

    await kemuOk(cluster, ['lab', 'reset', c.lab]);
    const reset = await check(cluster, c.lab);
    expect(failing(reset.json, 'check')).toEqual(c.failingAfterReset);

    await kemuOk(cluster, ['down']);
    started.delete(cluster);
  }, 300_000);
});
