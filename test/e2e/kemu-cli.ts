// The built kemu CLI (dist/cli/main.js, as `npm test` builds it) run against one test cluster's
// state: `env` carries KEMU_STATE_ROOT and KEMU_CLUSTER.

import { execFile } from 'node:child_process';
import path from 'node:path';

export const repo = path.resolve(import.meta.dirname, '../..');
export const CLI = path.join(repo, 'dist/cli/main.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface KemuCli {
  /** Runs kemu with args; the exit code is -1 when it was killed (e.g. by the timeout). */
  kemu(args: string[], timeoutMs?: number): Promise<CliResult>;
  /** Runs kemu and returns its stdout; throws with both outputs when it fails. */
  kemuOk(args: string[], timeoutMs?: number): Promise<string>;
}

export function kemuCli(env: NodeJS.ProcessEnv, defaultTimeoutMs = 90_000): KemuCli {
  const kemu = (args: string[], timeoutMs = defaultTimeoutMs): Promise<CliResult> =>
    new Promise((resolve) => {
      execFile(process.execPath, [CLI, ...args], { cwd: repo, env, timeout: timeoutMs }, (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
      });
    });
  const kemuOk = async (args: string[], timeoutMs?: number): Promise<string> => {
    const r = await kemu(args, timeoutMs);
    if (r.code !== 0) throw new Error(`kemu ${args.join(' ')} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  };
  return { kemu, kemuOk };
}
