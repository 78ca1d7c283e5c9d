// reload [INTERVAL] [JITTER]: checks the Corefile every INTERVAL ± JITTER (default 30s ± 15s) and
// restarts the server with it when its text changed. Where the text comes from is the caller's
// business (a file, a ConfigMap): it hands a reader to startClusterDns, and may also say when the
// text changed, which triggers a check at once instead of at the next tick.

import { createHash, randomInt } from 'node:crypto';
import { argError, type Directive } from '../../corefile/parse.js';
import type { Plugin, SetupContext } from '../../plugin.js';
import { parseDuration } from '../forward/setup.js';

export interface ReloadHooks {
  /** the current Corefile text */
  read(): Promise<string>;
  /** applies a changed Corefile */
  apply(corefile: string): Promise<void>;
  /** the text the running server was built from */
  running: string;
  /** calls `onChange` whenever the Corefile may have changed; returns the unsubscribe function */
  watch?(onChange: () => void): () => void;
}

export function setupReload(d: Directive, ctx: SetupContext): Plugin {
  const intervalMs = parseDuration(d.args[0] ?? '30s');
  const jitterMs = parseDuration(d.args[1] ?? (d.args[0] ? `${(intervalMs ?? 0) / 2}ms` : '15s'));
  if (intervalMs === undefined || intervalMs < 2000) throw argError(d, `interval value must be greater or equal to 2s: '${d.args[0] ?? ''}'`);
  if (jitterMs === undefined || jitterMs > intervalMs / 2) throw argError(d, `jitter value must be less than or equal to half of the interval: '${d.args[1] ?? ''}'`);
  const hooks = ctx.env.reload;
  let timer: NodeJS.Timeout | undefined;
  let unwatch: (() => void) | undefined;
  let stopped = false;
  // one check at a time; a change noticed during a check runs one more after it
  let checking: Promise<void> | undefined;
  let again = false;

  const schedule = (): void => {
    if (!hooks || stopped) return;
    clearTimeout(timer);
    timer = setTimeout(() => void checkNow(), intervalMs + (jitterMs > 0 ? randomInt(-jitterMs, jitterMs + 1) : 0));
    timer.unref();
  };
  // like CoreDNS, a text that failed to load is not tried again until it changes
  let lastFailed: string | undefined;
  const check = async (): Promise<boolean> => {
    try {
      const text = await hooks!.read();
      if (text === hooks!.running || text === lastFailed) return false;
      ctx.log.info('[INFO] Reloading');
      try {
        await hooks!.apply(text);
      } catch (e) {
        lastFailed = text;
        throw e;
      }
      ctx.log.info(`[INFO] plugin/reload: Running configuration SHA512 = ${createHash('sha512').update(text).digest('hex')}`);
      return true; // the new server schedules its own checks
    } catch (e) {
      ctx.env.metrics.inc('coredns_reload_failed_total', 'Counter of the number of failed reload attempts.');
      ctx.log.error(`[ERROR] Corefile changed but reload failed: ${e instanceof Error ? e.message : String(e)}`);
      return false;
    }
  };
  const checkNow = async (): Promise<void> => {
    if (!hooks || stopped) return;
    if (checking) {
      again = true;
      return checking;
    }
    clearTimeout(timer);
    checking = (async () => {
      let replaced = false;
      do {
        again = false;
        replaced = await check();
      } while (again && !replaced && !stopped);
    })();
    try {
      if (!(await checking.then(() => stopped))) schedule();
    } finally {
      checking = undefined;
    }
  };
  return {
    name: 'reload',
    serve: (req, next) => next(req),
    start: async () => {
      unwatch = hooks?.watch?.(() => void checkNow());
      schedule();
    },
    stop: async () => {
      stopped = true;
      unwatch?.();
      clearTimeout(timer);
    },
  };
}
