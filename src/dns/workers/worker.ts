// One worker of a multi-process coredns: its own informers and zone, the query plugins of the
// Corefile the primary sends, and the DNS listeners it shares with the other workers (node:cluster
// hands every worker the same UDP socket, so the kernel spreads datagrams over them). It reports
// readiness and metrics to the primary, which serves them once for the whole server.

import type { Client } from '../../api/client.js';
import { startClusterDns, type ClusterDns } from '../main.js';
import type { Logger } from '../plugin.js';
import { isToWorker, runsInPrimary, type ToPrimary, type ToWorker } from './protocol.js';

/**
 * How often readiness is looked at; a change is sent at once, metrics at least every STATUS_MS.
 * Short, because the primary's /ready waits on it at start-up and the kubelet's probe only asks
 * once a second: ready a little late can mean Ready a second late.
 */
const READY_POLL_MS = 10;
const STATUS_MS = 1000;

export interface WorkerOptions {
  client?: Client;
  address: string;
  /** the DNS port for a Corefile */
  portOf(corefile: string): number;
  localIPs: string[];
  log?: Logger;
}

function send(m: ToPrimary, then?: () => void): void {
  if (process.connected) process.send!(m, undefined, {}, () => then?.());
  else then?.();
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

function firstMessage(): Promise<ToWorker> {
  return new Promise((resolve) => {
    const on = (m: unknown): void => {
      if (!isToWorker(m)) return;
      process.off('message', on);
      resolve(m);
    };
    process.on('message', on);
    send({ kind: 'hello' });
  });
}

/** Keeps the primary told which plugins are not ready and what the metrics are. */
function reportStatus(dns: ClusterDns): { final(then: () => void): void } {
  let lastNotReady = '';
  let lastSent = 0;
  const status = (): ToPrimary => ({ kind: 'status', notReady: notReady(dns), metrics: dns.metrics.snapshot() });
  const timer = setInterval(() => {
    const now = Date.now();
    const names = notReady(dns).join(',');
    if (names === lastNotReady && now - lastSent < STATUS_MS) return;
    lastNotReady = names;
    lastSent = now;
    send(status());
  }, READY_POLL_MS);
  send(status());
  return {
    final: (then) => {
      clearInterval(timer);
      send(status(), then);
    },
  };
}

const notReady = (dns: ClusterDns): string[] => dns.plugins().filter((p) => p.ready && !p.ready()).map((p) => p.name);

export async function runWorker(opts: WorkerOptions): Promise<void> {
  // The kubelet signals the whole process group; the primary decides when workers stop (after
  // the health plugin's lameduck), so a worker ignores the signals and waits for `stop`.
  process.on('SIGTERM', () => undefined);
  process.on('SIGINT', () => undefined);
  // a primary that is gone (killed) takes its workers with it
  process.on('disconnect', () => process.exit(0));

  const start = await firstMessage();
  // the primary gave up before the Corefile was known (it could not read it)
  if (start.kind === 'stop') process.exit(0);
  if (start.kind !== 'start') throw new Error(`coredns worker: expected a start message, got ${start.kind}`);
  let dns: ClusterDns;
  try {
    dns = await startClusterDns({
      ...(opts.client ? { client: opts.client } : {}),
      corefile: start.corefile,
      runs: (d) => !runsInPrimary(d),
      listen: { address: opts.address, port: opts.portOf(start.corefile) },
      localIPs: opts.localIPs,
      ...(opts.log ? { log: opts.log } : {}),
      onFatal: (reason) => send({ kind: 'fatal', reason }, () => process.exit(1)),
    });
  } catch (e) {
    send({ kind: 'start-failed', error: message(e) }, () => process.exit(1));
    return;
  }
  send({ kind: 'serving' });
  const status = reportStatus(dns);
  process.on('message', (m: unknown) => {
    if (!isToWorker(m)) return;
    if (m.kind === 'apply') {
      dns.apply(m.corefile).then(
        () => send({ kind: 'applied', id: m.id }),
        (e: unknown) => send({ kind: 'applied', id: m.id, error: message(e) }),
      );
    } else if (m.kind === 'stop') {
      void dns.stop().then(() => status.final(() => process.exit(0)));
    }
  });
}
