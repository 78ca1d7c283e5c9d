// The coredns program with worker processes, as the kubelet runs it (no API: the Corefile is a
// file): every worker answers on the shared port, /metrics counts the queries of all of them,
// /ready follows the workers, a killed worker is replaced without totals going backwards, a
// Corefile reload reaches every worker, and SIGTERM keeps answering through the lameduck before
// the program exits 0 with its workers. Loopback only; the program is stopped by its pid.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatRR, TYPE } from '../../src/dns/wire/message.js';
import { query } from './dns-harness.js';

const MAIN = path.resolve(import.meta.dirname, '..', '..', 'src', 'workloads', 'main.ts');

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

const corefile = (p: { dns: number; health: number; ready: number; metrics: number }, ip: string): string => `.:${p.dns} {
    errors
    health 127.0.0.1:${p.health} {
        lameduck 1s
    }
    ready 127.0.0.1:${p.ready}
    prometheus 127.0.0.1:${p.metrics}
    hosts {
        ${ip} a.test
    }
    reload 2s 1s
}
`;

async function until<T>(what: string, f: () => Promise<T>, ok: (v: T) => boolean, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined && ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(v)})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const workerPids = (pid: number): number[] =>
  fs
    .readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
    .trim()
    .split(/\s+/)
    .filter((p) => p && /^Name:\s+node/m.test(fs.readFileSync(`/proc/${p}/status`, 'utf8')))
    .map(Number);

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('coredns program with --workers 2', () => {
  let dir: string;
  let child: ChildProcess;
  let ports: { dns: number; health: number; ready: number; metrics: number };
  let sent = 0;
  const get = async (port: number, p: string): Promise<{ status: number; body: string }> => {
    const r = await fetch(`http://127.0.0.1:${port}${p}`, { signal: AbortSignal.timeout(1000) });
    return { status: r.status, body: await r.text() };
  };
  const answer = async (): Promise<string[]> => {
    sent++;
    return (await query(ports.dns, 'a.test.', TYPE.A, { transport: 'udp', timeoutMs: 1000 })).answer.map(formatRR);
  };
  const requestsTotal = async (): Promise<number> => {
    const text = (await get(ports.metrics, '/metrics')).body;
    return text.split('\n').filter((l) => l.startsWith('coredns_dns_requests_total{')).reduce((n, l) => n + Number(l.split(' ').pop()), 0);
  };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kemu-dns-workers-'));
    ports = { dns: await freePort(), health: await freePort(), ready: await freePort(), metrics: await freePort() };
    fs.writeFileSync(path.join(dir, 'Corefile'), corefile(ports, '10.0.0.1'));
    child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'coredns', '-conf', path.join(dir, 'Corefile'), '--workers', '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
    await until('/ready', () => get(ports.ready, '/ready'), (r) => r.status === 200, 20_000);
  }, 25_000);

  afterAll(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('runs two workers that answer on the shared port, counted together on /metrics', async () => {
    expect(workerPids(child.pid!)).toHaveLength(2);
    const answers = await Promise.all(Array.from({ length: 100 }, () => answer()));
    expect(answers.every((a) => a[0] === 'a.test. 3600 IN A 10.0.0.1')).toBe(true);
    // workers report their figures every second
    await until('all queries counted', requestsTotal, (n) => n === sent, 3000);
  });

  it('replaces a killed worker, not ready meanwhile, and its queries stay counted', async () => {
    const before = await requestsTotal();
    const [victim, survivor] = workerPids(child.pid!);
    process.kill(victim!, 'SIGKILL');
    const notReady = await until('/ready to fail', () => get(ports.ready, '/ready'), (r) => r.status === 503, 1000);
    expect(notReady.body).toMatch(/^worker \d$/);
    expect(await answer()).toEqual(['a.test. 3600 IN A 10.0.0.1']);
    expect(await requestsTotal()).toBeGreaterThanOrEqual(before);
    await until('/ready', () => get(ports.ready, '/ready'), (r) => r.status === 200, 10_000);
    const now = workerPids(child.pid!);
    expect(now).toHaveLength(2);
    expect(now).toContain(survivor);
    expect(now).not.toContain(victim);
    await until('all queries counted', requestsTotal, (n) => n === sent, 3000);
  }, 15_000);

  it('applies a changed Corefile in every worker', async () => {
    fs.writeFileSync(path.join(dir, 'Corefile'), corefile(ports, '10.0.0.2'));
    await until('the new answer', answer, (a) => a[0] === 'a.test. 3600 IN A 10.0.0.2', 6000);
    const answers = await Promise.all(Array.from({ length: 40 }, () => answer()));
    expect(answers.filter((a) => a[0] !== 'a.test. 3600 IN A 10.0.0.2')).toEqual([]);
  }, 10_000);

  it('on SIGTERM answers through the lameduck, then exits 0 with its workers', async () => {
    const workers = workerPids(child.pid!);
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const started = Date.now();
    child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    expect((await get(ports.health, '/health')).body).toBe('OK');
    expect(await answer()).toEqual(['a.test. 3600 IN A 10.0.0.2']);
    expect(await exited).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(workers.filter(alive)).toEqual([]);
  }, 10_000);
});
