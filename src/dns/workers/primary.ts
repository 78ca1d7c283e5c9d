// The primary of a multi-process coredns: forks the workers that answer queries and serves, once
// for all of them, the plugins that face the operator (reload, health, ready, prometheus).
//
// - reload: the primary alone watches the Corefile; a changed text goes to the workers one at a
//   time and replaces the primary's own plugins only once every worker took it. The first worker
//   that refuses it (a bad Corefile) stops the rollout and the reload counts as failed.
// - ready: 200 only while every worker is serving and reports all its plugins ready.
// - prometheus: the primary's own counters plus the last figures each worker sent (at most a
//   second old) plus what workers that died had counted, so totals never go backwards.
// - a worker that exits by itself is forked again (backoff from 1 s up to 30 s while it keeps
//   dying young); one that reports a fatal error (loop detected) stops the whole server, as
//   CoreDNS exits.
// - stop: the primary's plugins stop first (health keeps answering through its lameduck while
//   the workers still serve), then every worker is told to stop and waited for.
// - start-up: the workers are forked first, so their Node.js start and module loading overlap
//   the primary's own (main.js and the plugins are imported after the fork) and the read of the
//   Corefile; a worker that says hello before the Corefile is known gets it once it is.

import cluster, { type Worker } from 'node:cluster';
import { countersOf, Metrics, type MetricsSnapshot } from '../metrics.js';
import type { ClusterDns } from '../main.js';
import type { Logger, Plugin } from '../plugin.js';
import type { CorefileSource } from '../corefile-source.js';
import { isToPrimary, runsInPrimary, type ToPrimary, type ToWorker } from './protocol.js';

const RESTART_MIN_MS = 1000;
const RESTART_MAX_MS = 30_000;
/** a worker that lived this long before dying is restarted after the minimum delay again */
const HEALTHY_AFTER_MS = 10_000;
const APPLY_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 5000;

export interface PrimaryOptions {
  workers: number;
  /** still being opened when the workers are forked */
  source: Promise<CorefileSource>;
  log?: Logger;
  /** a worker reported a fatal error; the server has stopped */
  onFatal?: (reason: string) => void;
}

export interface DnsPrimary {
  /** the control plugins' server (no DNS listener) */
  control: ClusterDns;
  /** pids of the workers running now */
  workerPids(): number[];
  stop(): Promise<void>;
}

/** One worker position: the process in it changes when a worker dies and is replaced. */
class Slot {
  worker: Worker | undefined;
  serving = false;
  /** the Corefile the worker in this slot runs */
  corefile = '';
  status: Extract<ToPrimary, { kind: 'status' }> | undefined;
  startedAt = 0;
  restartDelayMs = RESTART_MIN_MS;
  restartTimer: NodeJS.Timeout | undefined;
  readonly pendingApplies = new Map<number, (error?: string) => void>();

  constructor(readonly index: number) {}

  send(m: ToWorker): void {
    if (this.worker?.isConnected()) this.worker.send(m);
  }
}

/** A stand-in for a worker's plugin that is not ready, so the ready plugin lists it by name. */
const notReadyPlugin = (name: string): Plugin => ({ name, serve: (req, next) => next(req), ready: () => false });

export async function startPrimary(opts: PrimaryOptions): Promise<DnsPrimary> {
  const log = opts.log ?? { info: (l: string) => console.log(l), error: (l: string) => console.error(l) };
  const slots = Array.from({ length: opts.workers }, (_, i) => new Slot(i + 1));
  let stopping = false;
  let retired: MetricsSnapshot = {};
  /** the Corefile new workers start with; known once `targetKnown` resolved */
  let target = '';
  let markTargetKnown: () => void = () => undefined;
  const targetKnown = new Promise<void>((resolve) => (markTargetKnown = resolve));
  let applyId = 0;

  const peers = (): Plugin[] =>
    slots.flatMap((s) => {
      if (!s.serving || !s.status) return [notReadyPlugin(`worker ${s.index}`)];
      return s.status.notReady.map(notReadyPlugin);
    });
  const peerMetrics = (): MetricsSnapshot[] => [retired, ...slots.flatMap((s) => (s.status ? [s.status.metrics] : []))];

  const applyTo = (slot: Slot, corefile: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const id = ++applyId;
      const timer = setTimeout(() => done(`worker ${slot.index} did not answer within ${APPLY_TIMEOUT_MS / 1000}s`), APPLY_TIMEOUT_MS);
      const done = (error?: string): void => {
        clearTimeout(timer);
        slot.pendingApplies.delete(id);
        if (error === undefined) slot.corefile = corefile;
        if (error === undefined) resolve();
        else reject(new Error(error));
      };
      slot.pendingApplies.set(id, done);
      slot.send({ kind: 'apply', id, corefile });
    });

  // Workers forked meanwhile start with the new text; a refused text is taken back for them.
  const applyToWorkers = async (corefile: string): Promise<void> => {
    const before = target;
    target = corefile;
    try {
      for (let behind = slots.find((s) => s.serving && s.corefile !== corefile); behind; behind = slots.find((s) => s.serving && s.corefile !== corefile)) {
        await applyTo(behind, corefile);
      }
    } catch (e) {
      target = before;
      throw e;
    }
  };

  let failStart: ((e: Error) => void) | undefined;
  const fork = (slot: Slot): void => {
    const worker = cluster.fork();
    slot.worker = worker;
    slot.startedAt = Date.now();
    worker.on('message', (m: unknown) => {
      if (isToPrimary(m)) onMessage(slot, m);
    });
    worker.on('exit', (code, signal) => onExit(slot, worker, code, signal));
  };

  const onMessage = (slot: Slot, m: ToPrimary): void => {
    switch (m.kind) {
      case 'hello':
        void targetKnown.then(() => {
          slot.corefile = target;
          slot.send({ kind: 'start', corefile: target });
        });
        break;
      case 'serving':
        slot.serving = true;
        // forked before a reload changed the target: bring it up to date
        if (slot.corefile !== target) applyTo(slot, target).catch((e: unknown) => log.error(`[ERROR] worker ${slot.index}: ${e instanceof Error ? e.message : String(e)}`));
        break;
      case 'status':
        slot.status = m;
        break;
      case 'applied':
        slot.pendingApplies.get(m.id)?.(m.error);
        break;
      case 'start-failed':
        log.error(`[ERROR] worker ${slot.index}: ${m.error}`);
        failStart?.(new Error(m.error));
        break;
      case 'fatal':
        void stopAll().then(() => opts.onFatal?.(m.reason));
        break;
    }
  };

  const onExit = (slot: Slot, worker: Worker, code: number | null, signal: string | null): void => {
    if (slot.worker !== worker) return;
    // what it counted stays in the totals
    if (slot.status) retired = countersOf(retired, slot.status.metrics);
    slot.worker = undefined;
    slot.serving = false;
    slot.status = undefined;
    // an apply waiting on it is over: its replacement starts with the target text
    for (const done of [...slot.pendingApplies.values()]) done();
    if (stopping) return;
    if (Date.now() - slot.startedAt >= HEALTHY_AFTER_MS) slot.restartDelayMs = RESTART_MIN_MS;
    const delay = slot.restartDelayMs;
    slot.restartDelayMs = Math.min(delay * 2, RESTART_MAX_MS);
    log.error(`[ERROR] worker ${slot.index} (pid ${worker.process.pid}) exited (${signal ?? `code ${code}`}); starting a new one in ${delay / 1000}s`);
    slot.restartTimer = setTimeout(() => fork(slot), delay);
  };

  const stopWorkers = async (): Promise<void> => {
    await Promise.all(
      slots.map(async (slot) => {
        clearTimeout(slot.restartTimer);
        const w = slot.worker;
        if (!w || w.isDead()) return;
        const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
        slot.send({ kind: 'stop' });
        const kill = setTimeout(() => w.process.kill('SIGKILL'), STOP_GRACE_MS);
        await exited;
        clearTimeout(kill);
      }),
    );
  };

  let control: ClusterDns | undefined;
  let stopped: Promise<void> | undefined;
  const stopAll = (): Promise<void> =>
    (stopped ??= (async () => {
      stopping = true;
      await control?.stop();
      await stopWorkers();
    })());

  // the first start of every worker must succeed: a Corefile the workers refuse ends the program
  const allServing = new Promise<void>((resolve, reject) => {
    const check = setInterval(() => {
      if (slots.every((s) => s.serving)) {
        clearInterval(check);
        resolve();
      }
    }, 10);
    failStart = (e) => {
      clearInterval(check);
      reject(e);
    };
  });
  allServing.catch(() => undefined); // awaited below; a failure before that is not unhandled
  slots.forEach(fork);
  try {
    const [source, { startClusterDns }] = await Promise.all([opts.source, import('../main.js')]);
    target = await source.read();
    // parsed here first, so a bad Corefile ends the program before any worker starts with it
    control = await startClusterDns({
      corefile: target,
      runs: runsInPrimary,
      peers,
      metrics: new Metrics(peerMetrics),
      readCorefile: () => source.read(),
      ...(source.watch ? { watchCorefile: source.watch } : {}),
      beforeReload: applyToWorkers,
      log,
    });
    markTargetKnown();
    await allServing;
  } catch (e) {
    failStart?.(e instanceof Error ? e : new Error(String(e)));
    await stopAll();
    throw e;
  } finally {
    failStart = undefined;
  }
  return {
    control,
    workerPids: () => slots.flatMap((s) => (s.worker?.process.pid !== undefined && !s.worker.isDead() ? [s.worker.process.pid] : [])),
    stop: stopAll,
  };
}
