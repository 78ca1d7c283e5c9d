// Cluster DNS end to end: `kemu up`, the DNS add-on (coredns Deployment + kube-dns Service +
// ConfigMap), then dig, getent and curl from a Pod on every node — Service A/SRV/PTR, the search
// list with ndots:5, headless, ExternalName, NXDOMAIN — a new Service answered within a second, a
// Corefile edit (a stub domain forwarded to a second DNS Pod) applied live, and SERVFAIL quickly
// when the upstream is unreachable. Uses the built CLI (dist/), as `npm test` builds it.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultClusterConfig } from '../../src/api/cluster.js';
import { dnsAddonObjects, kubeadmCorefile } from '../../src/dns/addon.js';
import type { KubeObject } from '../../src/api/types.js';
import { until } from '../unit/support/api-fixture.js';
import { kemuCli } from './kemu-cli.js';
import { deployment, HEALTHZ_PROBE, HTTP_PORT, netexec, pinnedPod, service, writeManifest } from './support/manifests.js';
import { listPods, type PodInfo } from './support/pods.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kemu-dns-e2e-'));
const CLUSTER = `t-dns-${Math.random().toString(36).slice(2, 6)}`;
const UNDERLAY = `172.30.${210 + Math.floor(Math.random() * 40)}.0/24`;
const env = { ...process.env, KEMU_STATE_ROOT: root, KEMU_CLUSTER: CLUSTER };
const NODES = ['control-plane', 'worker', 'worker2'].map((n) => `${CLUSTER}-${n}`);
const DNS_IP = defaultClusterConfig().dnsServiceIP;

const cli = kemuCli(env);
const { kemu, kemuOk } = cli;

async function apply(name: string, content: KubeObject[] | string): Promise<void> {
  await kemuOk(['apply', '-f', writeManifest(root, name, content)]);
}

/** dig in a Pod, through its resolv.conf (kemu exec mounts it), as a student would run it. */
const dig = async (pod: string, args: string[]): Promise<string> => (await kemuOk(['exec', pod, '--', 'dig', '+time=3', '+tries=1', ...args])).trim();

const pods = (selector: string, namespace?: string) => listPods(cli, selector, namespace);

const clusterIP = async (svc: string): Promise<string> => (JSON.parse(await kemuOk(['get', 'svc', svc, '-o', 'json'])) as { spec: { clusterIP: string } }).spec.clusterIP;

const stubCorefile = path.join(root, 'stub.Corefile');

const WORKLOADS = [
  deployment('web', 2, [netexec('web', { readinessProbe: HEALTHZ_PROBE })]),
  service('web', { selector: { app: 'web' }, ports: [HTTP_PORT] }),
  service('web-headless', { clusterIP: 'None', selector: { app: 'web' }, ports: [{ name: 'http', port: 8080 }] }),
  service('ext', { type: 'ExternalName', externalName: 'web.default.svc.cluster.local' }),
  deployment('stubdns', 1, [{ name: 'coredns', image: 'registry.k8s.io/coredns/coredns:v1.11.3', args: ['-conf', stubCorefile] }], { pod: { dnsPolicy: 'Default' } }),
  ...NODES.map((node, i) => pinnedPod(`client-${i}`, node, { app: 'client' }, { name: 'shell', image: 'busybox', command: ['sleep', '3600'] })),
];

let clients: PodInfo[];
let webIP: string;

beforeAll(async () => {
  // the test upstream: a second CoreDNS serving example.test from a file on disk (no API)
  fs.writeFileSync(stubCorefile, 'example.test:53 {\n    hosts {\n        192.0.2.10 www.example.test\n    }\n}\n');
  await kemuOk(['up', '--nodes', '2', '--underlay-cidr', UNDERLAY], 120_000);
  const config = { ...defaultClusterConfig(CLUSTER), underlayCIDR: UNDERLAY };
  await apply('dns-addon', dnsAddonObjects(config, path.join(root, CLUSTER, 'api.sock')));
  await apply('workloads', WORKLOADS);
  await kemuOk(['wait', '--for=condition=Ready', 'pod', '-n', 'kube-system', '-l', 'k8s-app=kube-dns', '--timeout=60s'], 70_000);
  await kemuOk(['wait', '--for=condition=Ready', 'pod', '-l', 'app in (web,client,stubdns)', '--timeout=60s'], 70_000);
  clients = await pods('app=client');
  webIP = await clusterIP('web');
}, 240_000);

afterAll(async () => {
  await kemu(['down']);
  fs.rmSync(root, { recursive: true, force: true });
}, 60_000);

describe('cluster DNS in a kemu cluster', () => {
  it('runs two coredns replicas behind kube-dns at the cluster DNS IP', async () => {
    expect(await pods('k8s-app=kube-dns', 'kube-system')).toHaveLength(2);
    expect(await kemuOk(['get', 'svc', '-n', 'kube-system', 'kube-dns', '-o', 'jsonpath={.spec.clusterIP}'])).toBe(DNS_IP);
    expect(new Set(clients.map((c) => c.node))).toEqual(new Set(NODES));
  });

  it('answers A, the search list, SRV and PTR from a Pod on every node', async () => {
    await Promise.all(
      clients.map(async (c) => {
        expect(await dig(c.name, ['+short', 'web.default.svc.cluster.local'])).toBe(webIP);
        expect(await dig(c.name, ['+short', '+search', 'web'])).toBe(webIP);
        expect(await dig(c.name, ['+short', '+tcp', 'web.default.svc.cluster.local'])).toBe(webIP);
        expect(await dig(c.name, ['+short', 'SRV', '_http._tcp.web.default.svc.cluster.local'])).toBe('0 100 80 web.default.svc.cluster.local.');
        expect(await dig(c.name, ['+short', '-x', webIP])).toBe('web.default.svc.cluster.local.');
      }),
    );
  }, 60_000);

  it('answers a headless Service with its Pod IPs, ExternalName with a CNAME, a missing name with NXDOMAIN', async () => {
    const webPods = (await pods('app=web')).map((p) => p.ip).sort();
    await Promise.all(
      clients.map(async (c) => {
        expect((await dig(c.name, ['+short', 'web-headless.default.svc.cluster.local'])).split('\n').sort()).toEqual(webPods);
        expect((await dig(c.name, ['+short', 'ext.default.svc.cluster.local'])).split('\n')).toEqual(['web.default.svc.cluster.local.', webIP]);
        const missing = await dig(c.name, ['nothere.default.svc.cluster.local']);
        expect(missing).toContain('status: NXDOMAIN');
        expect(missing).toContain('flags: qr aa rd;');
      }),
    );
  }, 60_000);

  it('resolves through libc with ndots:5: getent hosts web.default, curl http://web', async () => {
    const names = new Set((await pods('app=web')).map((p) => p.name));
    await Promise.all(
      clients.map(async (c) => {
        expect((await kemuOk(['exec', c.name, '--', 'cat', '/etc/resolv.conf'])).split('\n')).toEqual(
          expect.arrayContaining(['search default.svc.cluster.local svc.cluster.local cluster.local', `nameserver ${DNS_IP}`, 'options ndots:5']),
        );
        expect((await kemuOk(['exec', c.name, '--', 'getent', 'hosts', 'web.default'])).trim().split(/\s+/)).toEqual([webIP, 'web.default.svc.cluster.local']);
        const hostname = (await kemuOk(['exec', c.name, '--', 'curl', '-s', '--max-time', '5', 'http://web/hostname'])).trim();
        expect(names).toContain(hostname);
      }),
    );
  }, 60_000);

  it('answers for a new Service within a second, from every replica', async () => {
    const replicas = await pods('k8s-app=kube-dns', 'kube-system');
    await apply('late', 'apiVersion: v1\nkind: Service\nmetadata:\n  name: late\nspec:\n  selector:\n    app: web\n  ports:\n  - port: 81\n    targetPort: 8080\n');
    const created = Date.now();
    // the ClusterIP is read beside the digs, so the CLI's own start-up is not counted as DNS delay
    const ip = clusterIP('late');
    // each replica asked directly (not through kube-dns, which picks one) from a node's namespace,
    // where a dig costs milliseconds; the first non-empty answer and when it came
    const answers = await Promise.all(
      replicas.map((r) =>
        until(`late to resolve at ${r.name}`, () => {
          const out = execFileSync('ip', ['netns', 'exec', NODES[1]!, 'dig', '+short', '+time=1', '+tries=1', `@${r.ip}`, 'late.default.svc.cluster.local'], { encoding: 'utf8' }).trim();
          return out !== '' ? { out, at: Date.now() } : undefined;
        }, 5000, 50),
      ),
    );
    for (const a of answers) expect(a.out).toBe(await ip);
    for (const a of answers) expect(a.at - created).toBeLessThan(1000);
  }, 30_000);

  it('applies a Corefile edit live: a stub domain forwarded to another DNS Pod', async () => {
    const [stub] = await pods('app=stubdns');
    const withStub = `${kubeadmCorefile('cluster.local')}example.test:53 {\n    errors\n    forward . ${stub!.ip}\n}\n`;
    await apply('coredns-cm', [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'coredns', namespace: 'kube-system' }, data: { Corefile: withStub } }]);
    const client = clients[0]!.name;
    const answer = await until('the stub domain', async () => {
      const out = (await kemu(['exec', client, '--', 'dig', '+short', '+time=2', '+tries=1', 'www.example.test'])).stdout.trim();
      return out === '192.0.2.10' ? out : undefined;
    }, 15_000, 200);
    expect(answer).toBe('192.0.2.10');
    // cluster names still answer after the reload
    expect(await dig(client, ['+short', 'web.default.svc.cluster.local'])).toBe(webIP);
  }, 60_000);

  it('answers SERVFAIL quickly, and logs why, when the upstream cannot be reached', async () => {
    const started = Date.now();
    const out = await dig(clients[1]!.name, ['+time=8', 'nothing.invalid']);
    expect(out).toContain('status: SERVFAIL');
    expect(Date.now() - started).toBeLessThan(7000);
    const logs = await Promise.all((await pods('k8s-app=kube-dns', 'kube-system')).map((p) => kemuOk(['logs', '-n', 'kube-system', p.name])));
    expect(logs.join('\n')).toMatch(/nothing\.invalid/);
  }, 30_000);
});
