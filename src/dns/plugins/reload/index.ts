// reload [INTERVAL] [JITTER]: checks the Corefile every INTERVAL ± JITTER (default 30s ± 15s) and
// restarts the server with it when its text changed. Where the text comes from is the caller's
// business (a file, a ConfigMap): it hands a reader to startClusterDns.

import { randomInt } from 'node:crypto';
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
}

export function setupReload(d: Directive, ctx: SetupContext): Plugin {
  const intervalMs = parseDuration(d.args[0] ?? '30s');
  const jitterMs = parseDuration(d.args[1] ?? (d.args[0] ? `${(intervalMs ?? 0) / 2}ms` : '15s'));
  if (intervalMs === undefined || intervalMs < 2000) throw argError(d, `interval value must be greater or equal to 2s: '${d.args[0] ?? ''}'`);
  if (jitterMs === undefined || jitterMs > intervalMs / 2) throw argError(d, `jitter value must be less than or equal to half of the interval: '${d.args[1] ?? ''}'`);
  const hooks = ctx.env.reload;
  let timer: NodeJS.Timeout | undefined;
  const schedule = (): void => {
    if (!hooks) return;
    timer = setTimeout(() => void check(), intervalMs + (jitterMs > 0 ? randomInt(-jitterMs, jitterMs + 1) : 0));
    timer.unref();
  };
  const check = async (): Promise<void> => {
    try {
      const text = await hooks!.read();
      if (text !== hooks!.running) {
        ctx.log.info('[INFO] Reloading');
        await hooks!.apply(text);
        return; // the new server schedules its own checks
      }
    } catch (e) {
      ctx.env.metrics.inc('coredns_reload_failed_total', 'Counter of the number of failed reload attempts.');
      ctx.log.error(`[ERROR] plugin/reload: ${e instanceof Error ? e.message : String(e)}`);
    }
    schedule();
  };
  return {
    name: 'reload',
    serve: (req, next) => next(req),
    start: async () => schedule(),
    stop: async () => clearTimeout(timer),
  };
}
