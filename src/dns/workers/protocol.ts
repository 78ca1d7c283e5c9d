// What the primary of a multi-process coredns and its workers say to each other over the
// node:cluster IPC channel, and which plugins run where.
//
// The primary runs the plugins that face the operator rather than the queries — reload, health,
// ready, prometheus — once for the whole server; each worker runs the rest (errors, cache,
// kubernetes, forward, ...) behind the shared DNS listeners.

import type { MetricsSnapshot } from '../metrics.js';

const CONTROL_PLUGINS = new Set(['reload', 'health', 'ready', 'prometheus']);

/** Whether a directive runs in the primary (true) or in every worker (false). */
export const runsInPrimary = (directive: string): boolean => CONTROL_PLUGINS.has(directive);

export type ToWorker =
  /** the answer to `hello`: the configuration to serve */
  | { kind: 'start'; corefile: string }
  /** a reloaded configuration; answered with `applied` */
  | { kind: 'apply'; id: number; corefile: string }
  /** graceful shutdown: close the listeners, stop the plugins, exit */
  | { kind: 'stop' };

export type ToPrimary =
  /** a worker's first message, once it listens for messages (earlier ones would be lost) */
  | { kind: 'hello' }
  /** listeners bound and plugins started */
  | { kind: 'serving' }
  /** the configuration could not be started; the worker exits */
  | { kind: 'start-failed'; error: string }
  | { kind: 'applied'; id: number; error?: string }
  /** the names of plugins that are not ready, and the worker's metrics, sent periodically */
  | { kind: 'status'; notReady: string[]; metrics: MetricsSnapshot }
  /** a plugin asked the whole server to stop (loop detected); the worker exits */
  | { kind: 'fatal'; reason: string };

const KINDS_TO_WORKER = new Set(['start', 'apply', 'stop']);
const KINDS_TO_PRIMARY = new Set(['hello', 'serving', 'start-failed', 'applied', 'status', 'fatal']);

const kindOf = (m: unknown): unknown => (typeof m === 'object' && m !== null ? (m as { kind?: unknown }).kind : undefined);

export const isToWorker = (m: unknown): m is ToWorker => KINDS_TO_WORKER.has(kindOf(m) as string);
export const isToPrimary = (m: unknown): m is ToPrimary => KINDS_TO_PRIMARY.has(kindOf(m) as string);
