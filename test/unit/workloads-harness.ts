// Shared by the workloads-*.test.ts files: start a built-in program as a real child process,
// wait for its start-up line, talk to it over loopback, and stop it by its own pid.

import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const mainTs = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/workloads/main.ts');

export interface Workload {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit code (or the signal name) once the process has ended. */
  exited: Promise<number | string>;
  /** Milliseconds from spawn to the start-up line. */
  startMs: number;
}

/**
 * Start `main.ts <args>` and wait for readyLine on stdout. With readyLine null (a program that
 * prints nothing) wait until the process catches SIGTERM and has gone idle (its CPU time stops
 * moving for 250 ms), i.e. it has finished loading and sits waiting.
 */
export async function startWorkload(args: string[], readyLine: RegExp | null, env: NodeJS.ProcessEnv = {}): Promise<Workload> {
  const begin = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', mainTs, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start-up line; stdout: ${out} stderr: ${err}`)), 15_000);
    const check = () => {
      if (readyLine?.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    if (readyLine === null) {
      void (async () => {
        let lastCpu = -1;
        let idlePolls = 0;
        for (let i = 0; i < 300 && idlePolls < 5; i++) {
          await new Promise((r) => setTimeout(r, 50));
          const cpu = await cpuTicks(child.pid!);
          idlePolls = cpu === lastCpu && (await catchesSigterm(child.pid!)) ? idlePolls + 1 : 0;
          lastCpu = cpu;
        }
        clearTimeout(timer);
        resolve();
      })();
    }
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code} before start-up; stdout: ${out} stderr: ${err}`));
    });
  });
  return { child, stdout: () => out, stderr: () => err, exited, startMs: performance.now() - begin };
}

/** SIGTERM the process and return its exit code. */
export async function terminate(w: Workload, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | string> {
  if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill(signal);
  return w.exited;
}

export function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export function freeUdpPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  body: string;
}

export function request(
  port: number,
  pathAndQuery: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path: pathAndQuery, method: options.method ?? 'GET', headers: options.headers, agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, body }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Send one datagram to 127.0.0.1:port and wait (bounded) for the reply. */
export function udpExchange(port: number, message: string, timeoutMs = 3000): Promise<{ reply: string; localPort: number }> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    const timer = setTimeout(() => {
      s.close();
      reject(new Error('no UDP reply'));
    }, timeoutMs);
    s.on('message', (msg) => {
      clearTimeout(timer);
      const localPort = s.address().port;
      s.close();
      resolve({ reply: msg.toString(), localPort });
    });
    s.send(message, port, '127.0.0.1');
  });
}

/** Resident set size of a process in KiB, from /proc. */
export async function rssKiB(pid: number): Promise<number> {
  const fs = await import('node:fs/promises');
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

async function catchesSigterm(pid: number): Promise<boolean> {
  const fs = await import('node:fs/promises');
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const caught = /SigCgt:\s+([0-9a-f]+)/.exec(status)?.[1];
  return caught !== undefined && (BigInt(`0x${caught}`) & (1n << 14n)) !== 0n;
}

async function cpuTicks(pid: number): Promise<number> {
  const fs = await import('node:fs/promises');
  const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** Poll until check() holds (bounded), for output a child writes after answering. */
export async function eventually(check: () => boolean, timeoutMs = 3000): Promise<void> {
  for (const start = performance.now(); !check(); ) {
    if (performance.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
