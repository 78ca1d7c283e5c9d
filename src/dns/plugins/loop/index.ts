// loop: at startup, sends `<random>.<random>.<zone> HINFO` through the server's own chain. If that
// probe comes back into this server more than twice, queries are going round in circles
// (typically `forward . /etc/resolv.conf` pointing at ourselves) and the server stops, as
// CoreDNS exits with "Loop ... detected".

import { randomInt } from 'node:crypto';
import type { Directive } from '../../corefile/parse.js';
import { CLASS_IN, TYPE, RCODE } from '../../wire/message.js';
import type { Plugin, SetupContext } from '../../plugin.js';

const PROBE_INTERVAL_MS = 1000;
const PROBE_ATTEMPTS = 30;
const LOOP_THRESHOLD = 2;

const randomLabel = (): string => String(randomInt(2 ** 47)) + String(randomInt(1e6));

export function setupLoop(_d: Directive, ctx: SetupContext): Plugin {
  const zone = ctx.zones[0] ?? '.';
  const probe = `${randomLabel()}.${randomLabel()}.${zone === '.' ? '' : zone}`;
  let seen = 0;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const sendProbe = async (attempt: number): Promise<void> => {
    if (stopped) return;
    const r = await ctx.lookup({ question: { name: probe, type: TYPE.HINFO, class: CLASS_IN }, proto: 'udp', remoteAddress: '127.0.0.1', do: false, udpSize: 0, depth: 1 });
    if (r.rcode === RCODE.SERVFAIL && attempt < PROBE_ATTEMPTS && !stopped) {
      timer = setTimeout(() => void sendProbe(attempt + 1), PROBE_INTERVAL_MS);
      timer.unref();
    }
  };

  return {
    name: 'loop',
    async serve(req, next) {
      if (req.question.name.toLowerCase() === probe.toLowerCase() && req.question.type === TYPE.HINFO && ++seen > LOOP_THRESHOLD) {
        const msg = `[FATAL] plugin/loop: Loop (${req.remoteAddress} -> :53) detected for zone "${zone}", see https://coredns.io/plugins/loop#troubleshooting. Query: "HINFO ${probe}"`;
        ctx.log.error(msg);
        ctx.env.fatal(msg);
        return { rcode: RCODE.SERVFAIL, aa: false, tc: false, ra: false, answer: [], authority: [], additional: [], plugin: 'loop' };
      }
      return next(req);
    },
    start: async () => {
      timer = setTimeout(() => void sendProbe(1), 0);
      timer.unref();
    },
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
