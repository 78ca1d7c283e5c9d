// kube-proxy's IPVS mode on a kernel that has IPVS: test/e2e/ipvs-scenario.ts runs inside
// ../shared/tools/vmkernel (a stock Debian kernel under QEMU, sharing this filesystem) and reports
// what it saw — `ipvsadm -Ln` with the ClusterIP's virtual server and both real servers, kube-ipvs0,
// the ipsets and iptables rules, answers through the ClusterIP from both endpoints, a refused
// connection to a Service without endpoints, and the real servers after an endpoint left. vmkernel
// exit code 77 means it cannot boot here: the test is skipped with its reason. On this host (no
// ip_vs) `kemu up --proxy-mode ipvs` must stop at once and name the modes that work. Root.

import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ipvsSupported, parseIpvsadmList } from '../../src/sys/ipvs.js';
import { listNetns } from '../../src/sys/netns.js';
import type { IpvsScenarioResult } from './ipvs-scenario.js';

const repo = path.resolve(import.meta.dirname, '../..');
const isRoot = process.getuid?.() === 0;
const hostHasIpvs = fs.existsSync('/proc/net/ip_vs');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs: number }): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: repo, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => child.pid !== undefined && process.kill(child.pid, 'SIGKILL'), options.timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

describe.runIf(isRoot)('kube-proxy IPVS mode under vmkernel', () => {
  it('programs the ClusterIP as a virtual server, balances over both endpoints and follows an endpoint removal', async (ctx) => {
    const vm = await run('/work/shared/tools/vmkernel', ['--timeout', '240', '--', process.execPath, '--import', 'tsx', 'test/e2e/ipvs-scenario.ts'], {
      timeoutMs: 280_000,
    });
    if (vm.code === 77) {
      console.warn(`vmkernel cannot boot here, skipping: ${vm.stderr.trim().split('\n').slice(-3).join(' ')}`);
      ctx.skip();
    }
    const line = vm.stdout.split('\n').find((l) => l.startsWith('IPVS-RESULT '));
    expect(line, `vmkernel exited ${vm.code}\n${vm.stdout}\n${vm.stderr}`).toBeDefined();
    expect(vm.code).toBe(0);
    const r = JSON.parse(line!.slice('IPVS-RESULT '.length)) as IpvsScenarioResult;

    const before = parseIpvsadmList(r.ipvsadmBefore).find((vs) => vs.address === r.clusterIP && vs.port === 80);
    expect(before).toMatchObject({ protocol: 'TCP', scheduler: 'rr' });
    expect(before!.realServers.map((rs) => `${rs.address}:${rs.port} w${rs.weight}`)).toEqual(['10.244.1.2:8080 w1', '10.244.1.3:8080 w1']);
    expect(r.ipvsadmBefore).toMatch(/-> 10\.244\.1\.2:8080\s+Masq/);
    expect(r.dummyAddresses).toContain(`inet ${r.clusterIP}/32`);
    expect(r.ipsetSave).toContain(`add KUBE-CLUSTER-IP ${r.clusterIP},tcp:80`);
    expect(r.ipsetSave).toContain(`add KUBE-IPVS-IPS ${r.clusterIP}`);
    expect(r.iptablesSave).toContain('-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES');
    expect(r.iptablesSave).toContain('-A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT');

    // rr over two real servers: both answer, nothing else does
    expect(new Set(r.answersBefore)).toEqual(new Set(['pod-one', 'pod-two']));
    // a virtual server without real servers answers with ICMP port unreachable: refused at once
    expect(r.emptyServiceCode).toBe(7);
    expect(r.emptyServiceMs).toBeLessThan(3000);

    const after = parseIpvsadmList(r.ipvsadmAfter).find((vs) => vs.address === r.clusterIP && vs.port === 80);
    const active = after!.realServers.filter((rs) => rs.weight > 0).map((rs) => rs.address);
    expect(active).toEqual(['10.244.1.2']);
    // the removed one is gone, or drains with weight 0 while its closed connections age out
    for (const rs of after!.realServers.filter((x) => x.address === '10.244.1.3')) expect(rs.weight).toBe(0);
    expect(r.answersAfter).toEqual(['pod-one', 'pod-one', 'pod-one', 'pod-one']);
  }, 300_000);
});

describe.runIf(isRoot && !hostHasIpvs)('IPVS mode on a kernel without ip_vs', () => {
  it('is reported unsupported with the reason', async () => {
    const support = await ipvsSupported({ modprobe: false });
    expect(support.ok).toBe(false);
    expect(support.ok ? '' : support.reason).toContain('ip_vs');
  });

  it('makes `kemu up --proxy-mode ipvs` fail fast, naming iptables and nftables, and leave nothing behind', async () => {
    const cli = path.join(repo, 'dist/cli/main.js');
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kemut-ipvs-up-'));
    const cluster = `kemut-ipvs-${Math.random().toString(36).slice(2, 6)}`;
    const underlay = `172.30.${10 + Math.floor(Math.random() * 200)}.0/24`;
    try {
      const started = Date.now();
      const r = await new Promise<Run>((resolve) =>
        execFile(
          process.execPath,
          [cli, 'up', '--cluster', cluster, '--nodes', '1', '--underlay-cidr', underlay, '--proxy-mode', 'ipvs'],
          { cwd: repo, env: { ...process.env, KEMU_STATE_ROOT: root }, timeout: 60_000 },
          (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
        ),
      );
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/ipvs/);
      expect(r.stderr).toContain('iptables');
      expect(r.stderr).toContain('nftables');
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(fs.existsSync(path.join(root, cluster))).toBe(false);
      expect(listNetns().filter((n) => n.startsWith(cluster))).toEqual([]);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
