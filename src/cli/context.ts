// What every command gets: the parsed global flags, the API client of the chosen cluster, and the
// streams to write to. Commands are modules exporting a Command; main.ts keeps the table of them.

import type { Client } from '../api/client.js';
import type { Args, FlagSpec } from './args.js';

export interface CommandContext {
  /** --cluster, KEMU_CLUSTER, else 'kemu' */
  cluster: string;
  /** The client of that cluster, created on first use. */
  client(): Client;
  /** GET a path outside the resource space (/version). */
  rawGet(path: string): Promise<unknown>;
  /** -n, else 'default' */
  namespace: string;
  /** True when -n was given (apply then checks manifests against it). */
  namespaceExplicit: boolean;
  /** -A */
  allNamespaces: boolean;
  out(text: string): void;
  err(text: string): void;
  stdin: NodeJS.ReadableStream;
  now(): number;
  /** Aborted on SIGINT/SIGTERM: long-running commands (get -w, logs -f) stop cleanly. */
  signal: AbortSignal;
}

export interface Command {
  name: string;
  aliases?: string[];
  /** One line for `kemu help`. */
  summary: string;
  /** The command's own flags; without a spec unknown flags are accepted as given. */
  flags?: FlagSpec;
  /** Resolves to the exit code; throwing prints the error kubectl-style and exits 1. */
  run(args: Args, ctx: CommandContext): Promise<number>;
}
