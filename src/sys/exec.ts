// Run a program to completion: arguments as a list (never a shell line), optional stdin, a timeout,
// stdout and stderr captured. A failure names the command line and carries what it printed.

import { spawn } from 'node:child_process';

export interface ExecOptions {
  /** Written to the program's stdin, which is then closed. */
  input?: string;
  /** Kill the program (SIGKILL, by its pid) after this long. Default 30 s. */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /** Resolve with the exit code instead of throwing when it is not 0. */
  allowFailure?: boolean;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  /** Exit code; -1 when the program was killed by a signal. */
  code: number;
}

export class ExecError extends Error {
  constructor(
    readonly command: string,
    readonly args: readonly string[],
    readonly result: ExecResult,
    reason: string,
  ) {
    const stderr = result.stderr.trim();
    super(`${[command, ...args].join(' ')}: ${reason}${stderr ? `: ${stderr}` : ''}`);
    this.name = 'ExecError';
  }
}

export function exec(command: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      clearTimeout(timer);
      const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
      const result = { stdout: '', stderr: '', code: -1 };
      reject(new ExecError(command, args, result, missing ? `program not found in PATH` : e.message));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const result = { stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), code: code ?? -1 };
      if (timedOut) reject(new ExecError(command, args, result, `timed out after ${timeoutMs} ms`));
      else if (result.code !== 0 && !options.allowFailure) reject(new ExecError(command, args, result, `exit code ${result.code}`));
      else resolve(result);
    });
    // A program that exits without reading stdin makes the write fail with EPIPE; its exit code tells.
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
  });
}
