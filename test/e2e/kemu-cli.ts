// The kemu CLI run against one test cluster's state: `env` carries KEMU_STATE_ROOT and KEMU_CLUSTER.
// By default the built one (dist/cli/main.js, as `npm test` builds it); tests that need no cluster
// can run the TypeScript sources through tsx instead and skip the build.

import { execFile } from 'node:child_process';
import path from 'node:path';

export const repo = path.resolve(import.meta.dirname, '../..');
export const CLI = path.join(repo, 'dist/cli/main.js');

/** Which kemu to run: the build in dist/, or src/ through tsx. */
export type KemuEntry = 'built' | 'source';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface KemuCli {
  /** Runs kemu with args (stdin, if given, is its input); the exit code is -1 when it was killed (e.g. by the timeout). */
  kemu(args: string[], timeoutMs?: number, stdin?: string): Promise<CliResult>;
  /** Runs kemu and returns its stdout; throws with both outputs when it fails. */
  kemuOk(args: string[], timeoutMs?: number): Promise<string>;
}

/** Node's arguments that run kemu with args, from the repo's root. */
export function kemuArgv(args: string[], entry: KemuEntry = 'built'): string[] {
  return [...(entry === 'built' ? [CLI] : ['--import', 'tsx', 'src/cli/main.ts']), ...args];
}

export function kemuCli(env: NodeJS.ProcessEnv, defaultTimeoutMs = 90_000, entry: KemuEntry = 'built'): KemuCli {
  const kemu = (args: string[], timeoutMs = defaultTimeoutMs, stdin?: string): Promise<CliResult> =>
    new Promise((resolve) => {
      const child = execFile(process.execPath, kemuArgv(args, entry), { cwd: repo, env, timeout: timeoutMs }, (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
      });
      if (stdin !== undefined) child.stdin?.end(stdin);
    });
  const kemuOk = async (args: string[], timeoutMs?: number): Promise<string> => {
    const r = await kemu(args, timeoutMs);
    if (r.code !== 0) throw new Error(`kemu ${args.join(' ')} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  };
  return { kemu, kemuOk };
}
