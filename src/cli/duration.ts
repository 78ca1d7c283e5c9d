// Go duration strings as kubectl's --timeout and --grace-period flags take them: 30s, 1m30s, 500ms,
// 2h; a bare number counts as seconds.

import { CliError } from './errors.js';

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export function parseDuration(s: string, flag: string): number {
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  const part = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  for (let m = part.exec(s); m; m = part.exec(s)) {
    total += Number(m[1]) * UNIT_MS[m[2]];
    matched = part.lastIndex;
  }
  if (s === '' || matched !== s.length) throw new CliError(`invalid argument "${s}" for "--${flag}" flag: time: invalid duration "${s}"`);
  return total;
}
