// The kemu CLI as a user runs it: a real process per command, against a real API server on the
// cluster's socket in a temporary state root. Checks output, wording and exit codes.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { clusterPaths, defaultClusterConfig } from '../../src/api/cluster.js';
import { startApiServer, type RunningApiServer } from '../../src/api/server/apiserver.js';
import { kemuArgv, kemuCli, repo } from './kemu-cli.js';
import { deployment, service, writeManifest } from './support/manifests.js';

const CLUSTER = 'clitest';
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kemu-cli-e2e-'));
const env = { ...process.env, KEMU_STATE_ROOT: root, KEMU_CLUSTER: CLUSTER };
let server: RunningApiServer;

// The sources through tsx: this file needs no build.
const { kemu } = kemuCli(env, 20_000, 'source');

const webManifest = (replicas: number, extraLabel: boolean) => [
  deployment('web', replicas, [{ name: 'nginx', image: 'nginx:1.25', ports: [{ containerPort: 80 }] }], {
    labels: { app: 'web', ...(extraLabel && { tier: 'frontend' }) },
  }),
  service('web', { type: 'NodePort', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 80 }] }),
];

beforeAll(async () => {
  process.env.KEMU_STATE_ROOT = root;
  const paths = clusterPaths(CLUSTER);
  fs.mkdirSync(paths.dir, { recursive: true });
  server = await startApiServer({ storeDir: paths.storeDir, socketPath: paths.apiSocket, config: defaultClusterConfig(CLUSTER) });
});

afterAll(async () => {
  await server?.close();
  fs.rmSync(root, { recursive: true, force: true });
});

describe('kemu CLI against a live API server', () => {
  it('applies: created, unchanged, configured, and removes a dropped field', async () => {
    const file = writeManifest(root, 'web', webManifest(2, true));
    const first = await kemu(['apply', '-f', file]);
    expect(first).toMatchObject({ code: 0, stdout: 'deployment.apps/web created\nservice/web created\n' });

    const again = await kemu(['apply', '-f', file]);
    expect(again).toMatchObject({ code: 0, stdout: 'deployment.apps/web unchanged\nservice/web unchanged\n' });

    writeManifest(root, 'web', webManifest(3, false));
    const changed = await kemu(['apply', '-f', file]);
    expect(changed).toMatchObject({ code: 0, stdout: 'deployment.apps/web configured\nservice/web unchanged\n' });

    const live = JSON.parse((await kemu(['get', 'deployment', 'web', '-o', 'json'])).stdout);
    expect(live.spec.replicas).toBe(3);
    expect(live.metadata.labels).toEqual({ app: 'web' });
  });

  it('prints tables, yaml, json, name and jsonpath', async () => {
    const [table, yaml, name, svc, jp] = await Promise.all([
      kemu(['get', 'deploy']),
      kemu(['get', 'deployments.apps/web', '-o', 'yaml']),
      kemu(['get', 'deploy,svc', '-o', 'name']),
      kemu(['get', 'svc', 'web']),
      kemu(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.template.spec.containers[0].image}']),
    ]);
    const [header, row] = table.stdout.trimEnd().split('\n');
    expect(header.split(/\s{2,}/)).toEqual(['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE']);
    expect(row).toMatch(/^web\s+0\/3\s+0\s+0\s+\d+s$/);
    expect(parse(yaml.stdout)).toMatchObject({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' } });
    expect(name.stdout).toBe('deployment.apps/web\nservice/kubernetes\nservice/web\n');
    expect(svc.stdout.split('\n')[1]).toMatch(/^web\s+NodePort\s+10\.\d+\.\d+\.\d+\s+<none>\s+80:3\d{4}\/TCP\s+\d+s$/);
    expect(jp.stdout).toBe('nginx:1.25');
  });

  it('says when nothing matches, with the namespace', async () => {
    const [none, all] = await Promise.all([kemu(['get', 'pods', '-n', 'kube-public']), kemu(['get', 'ns', '-A'])]);
    expect(none).toMatchObject({ code: 0, stdout: '', stderr: 'No resources found in kube-public namespace.\n' });
    expect(all.stdout.split('\n')[0].split(/\s{2,}/)).toEqual(['NAME', 'STATUS', 'AGE']);
    expect(all.stdout).toMatch(/^kube-system\s+Active\s+/m);
  });

  it('describes a service with its selector, ports and events', async () => {
    const out = await kemu(['describe', 'svc', 'web']);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/^Name:\s+web$/m);
    expect(out.stdout).toMatch(/^Selector:\s+app=web$/m);
    expect(out.stdout).toMatch(/^Port:\s+<unset>  80\/TCP$/m);
    expect(out.stdout).toMatch(/^NodePort:\s+<unset>  3\d{4}\/TCP$/m);
    expect(out.stdout).toMatch(/^Events:\s+<none>$/m);
  });

  it('scales, labels and patches', async () => {
    const [scaled, labeled] = await Promise.all([kemu(['scale', 'deployment', 'web', '--replicas=5']), kemu(['label', 'deploy', 'web', 'team=blue'])]);
    expect(scaled).toMatchObject({ code: 0, stdout: 'deployment.apps/web scaled\n' });
    expect(labeled).toMatchObject({ code: 0, stdout: 'deployment.apps/web labeled\n' });
    const [clash, patched] = await Promise.all([
      kemu(['label', 'deploy', 'web', 'team=red']),
      kemu(['patch', 'deploy', 'web', '--type', 'merge', '-p', '{"spec":{"paused":true}}']),
    ]);
    expect(clash).toMatchObject({ code: 1, stderr: "error: 'team' already has a value (blue), and --overwrite is false\n" });
    expect(patched).toMatchObject({ code: 0, stdout: 'deployment.apps/web patched\n' });
    const jp = await kemu(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.replicas} {.metadata.labels.team} {.spec.paused}']);
    expect(jp.stdout).toBe('5 blue true');
  });

  it('waits for a condition set by a status patch, and times out with exit code 1', async () => {
    const pod = writeManifest(root, 'pod', 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: p1\nspec:\n  containers:\n  - name: c\n    image: busybox\n');
    expect(await kemu(['create', '-f', pod])).toMatchObject({ code: 0, stdout: 'pod/p1 created\n' });

    const waiting = kemu(['wait', '--for=condition=Ready', 'pod/p1', '--timeout=15s']);
    await new Promise((r) => setTimeout(r, 800));
    const status = '{"status":{"conditions":[{"type":"Ready","status":"True"}]}}';
    expect(await kemu(['patch', 'pod', 'p1', '--subresource=status', '--type=merge', '-p', status])).toMatchObject({ code: 0 });
    expect(await waiting).toMatchObject({ code: 0, stdout: 'pod/p1 condition met\n' });

    const timeout = await kemu(['wait', 'pod', 'p1', '--for=jsonpath={.status.phase}=Running', '--timeout=1s']);
    expect(timeout).toMatchObject({ code: 1, stderr: 'error: timed out waiting for the condition on pods/p1\n' });
  });

  it('deletes and then reports NotFound', async () => {
    const [byName, byFile] = await Promise.all([kemu(['delete', 'pod', 'p1']), kemu(['delete', '-f', path.join(root, 'web.yaml')])]);
    expect(byName).toMatchObject({ code: 0, stdout: 'pod "p1" deleted\n' });
    expect(byFile).toMatchObject({ code: 0, stdout: 'deployment.apps "web" deleted\nservice "web" deleted\n' });
    expect(await kemu(['get', 'pod', 'p1'])).toMatchObject({ code: 1, stderr: 'Error from server (NotFound): pods "p1" not found\n' });
  });

  it('creates from generators and reads stdin', async () => {
    expect(await kemu(['create', 'namespace', 'lab'])).toMatchObject({ code: 0, stdout: 'namespace/lab created\n' });
    const [cmCreated, dry, fromStdin] = await Promise.all([
      kemu(['create', 'configmap', 'cfg', '-n', 'lab', '--from-literal=a=1', '--from-literal=b=x=y']),
      kemu(['create', 'deployment', 'api', '--image=registry.k8s.io/e2e-test-images/agnhost:2.39', '--dry-run=client', '-o', 'yaml']),
      kemu(['apply', '-n', 'lab', '-f', '-'], undefined, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: piped\ndata:\n  k: v\n'),
    ]);
    expect(cmCreated).toMatchObject({ code: 0, stdout: 'configmap/cfg created\n' });
    expect(parse(dry.stdout).spec.template.spec.containers[0].name).toBe('agnhost');
    expect(fromStdin).toMatchObject({ code: 0, stdout: 'configmap/piped created\n' });
    const cm = JSON.parse((await kemu(['get', 'cm', 'cfg', '-n', 'lab', '-o', 'json'])).stdout);
    expect(cm.data).toEqual({ a: '1', b: 'x=y' });
  });

  it('rejects bad input with kubectl wording and exit code 1', async () => {
    const broken = writeManifest(root, 'broken', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  labels: [a\n');
    const invalid = writeManifest(root, 'invalid', 'apiVersion: v1\nkind: Service\nmetadata:\n  name: bad\nspec:\n  ports:\n  - port: 0\n');
    const [unknownType, bad, inv, unknownVerb] = await Promise.all([
      kemu(['get', 'frobs']),
      kemu(['apply', '-f', broken]),
      kemu(['apply', '-f', invalid]),
      kemu(['frobnicate']),
    ]);
    expect(unknownType).toMatchObject({ code: 1, stderr: 'error: the server doesn\'t have a resource type "frobs"\n' });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(new RegExp(`^error: error parsing ${broken.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: error converting YAML to JSON: yaml: line \\d+: `));
    expect(inv.code).toBe(1);
    // Two field errors: kubectl lists them one per line under the summary.
    expect(inv.stderr).toMatch(/^The Service "bad" is invalid: \n\* spec\.ports\[0\]\.port: Invalid value: 0: must be between 1 and 65535, inclusive$/m);
    expect(unknownVerb).toMatchObject({ code: 1, stderr: expect.stringMatching(/^error: unknown command "frobnicate" for "kemu"/) });
  });

  it('streams watch rows until interrupted', async () => {
    const child = spawn(process.execPath, kemuArgv(['get', 'cm', '-n', 'lab', '-w', '--watch-only'], 'source'), { cwd: repo, env });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await new Promise((r) => setTimeout(r, 1200));
      await kemu(['create', 'configmap', 'later', '-n', 'lab', '--from-literal=x=1']);
      for (let i = 0; i < 50 && !out.includes('later'); i++) await new Promise((r) => setTimeout(r, 100));
      expect(out.split('\n')[0].split(/\s{2,}/)).toEqual(['NAME', 'DATA', 'AGE']);
      expect(out).toMatch(/^later\s+1\s+\d+s$/m);
    } finally {
      child.kill('SIGINT');
    }
    const code = await new Promise((r) => child.on('exit', (c) => r(c)));
    expect(code).toBe(0);
  });
});
