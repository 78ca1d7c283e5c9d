#!/usr/bin/env node
// The kemu command: kubectl's verbs against a kemu cluster's API, plus the lab verbs (up, down, ...)
// that src/cli/commands/index.ts lists. Flags may come anywhere on the line, as with kubectl.

import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DEFAULT_CLUSTER_NAME } from '../api/cluster.js';
import { clientForCluster, type HttpClient } from '../api/http-client.js';
import { parseArgs, type FlagSpec } from './args.js';
import { COMMANDS } from './commands/index.js';
import type { Command, CommandContext } from './context.js';
import { errorMessage } from './errors.js';

/** Flags every command takes. */
const GLOBAL_FLAGS: FlagSpec = {
  cluster: { kind: 'string' },
  namespace: { kind: 'string', short: 'n' },
  'all-namespaces': { kind: 'boolean', short: 'A' },
  help: { kind: 'boolean', short: 'h' },
};

export interface CliIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
}

function findCommand(word: string): Command | undefined {
  return COMMANDS.find((c) => c.name === word || c.aliases?.includes(word));
}

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`);
  return [
    'kemu: a Kubernetes networking emulator. kubectl verbs work against the cluster kemu runs.',
    '',
    'Commands:',
    ...lines,
    '',
    'Global flags: --cluster NAME (or KEMU_CLUSTER; default kemu), -n/--namespace NS, -A/--all-namespaces',
    '',
  ].join('\n');
}

/** The verb's position: the first word that is not a global flag or its value. */
function verbIndex(argv: string[]): number {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') return -1;
    if (a === '--cluster' || a === '--namespace' || a === '-n') i++;
    else if (!a.startsWith('-')) return i;
  }
  return -1;
}

/** Run one command line; resolves to the exit code. */
export async function runCli(argv: string[], io: CliIO): Promise<number> {
  const out = (s: string): void => void io.stdout.write(s);
  const err = (s: string): void => void io.stderr.write(s);
  const at = verbIndex(argv);
  if (at < 0) {
    out(usage());
    return 0;
  }
  const verb = argv[at];
  const command = verb === 'help' ? undefined : findCommand(verb);
  if (!command) {
    if (verb === 'help') {
      out(usage());
      return 0;
    }
    err(`error: unknown command "${verb}" for "kemu"\nRun 'kemu --help' for usage.\n`);
    return 1;
  }
  let client: HttpClient | undefined;
  try {
    const rest = [...argv.slice(0, at), ...argv.slice(at + 1)];
    const args = parseArgs(rest, { ...GLOBAL_FLAGS, ...command.flags }, command.flags === undefined);
    if (args.bool('help')) {
      out(`${command.name}: ${command.summary}\n`);
      return 0;
    }
    const cluster = args.string('cluster') || io.env.KEMU_CLUSTER || DEFAULT_CLUSTER_NAME;
    const getClient = (): HttpClient => (client ??= clientForCluster(cluster));
    const ctx: CommandContext = {
      cluster,
      client: getClient,
      rawGet: (path) => getClient().raw(path),
      namespace: args.string('namespace') || 'default',
      namespaceExplicit: !!args.string('namespace'),
      allNamespaces: args.bool('all-namespaces'),
      out,
      err,
      stdin: io.stdin,
      now: () => Date.now(),
      signal: io.signal,
    };
    return await command.run(args, ctx);
  } catch (e) {
    err(`${errorMessage(e)}\n`);
    return 1;
  } finally {
    client?.close();
  }
}

function isEntryPoint(): boolean {
  if (!process.argv[1]) return false;
  try {
    return fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  const interrupted = new AbortController();
  const onSignal = (): void => {
    // A second Ctrl-C ends a command that does not stop by itself.
    if (interrupted.signal.aborted) process.exit(130);
    interrupted.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const code = await runCli(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    signal: interrupted.signal,
  });
  // stdout and stderr are synchronous on Linux, so nothing written is lost.
  process.exit(code);
}
