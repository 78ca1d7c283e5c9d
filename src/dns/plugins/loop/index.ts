// loop: at startup, sends `<random>.<random>.<zone> HINFO` through the server's own chain. If that
// probe comes back into this server more than twice, queries are going round in circles
// (typically `forward . /etc/resolv.conf` pointing at ourselves) and the server stops, as
// CoreDNS exits with "Loop ... detected". As upstream, any answer to the probe (SERVFAIL from an
// unreachable upstream included) ends the check two seconds later; only a probe that got no answer
// at all is sent again, every second for up to 30 seconds, with the count reset.

import { randomInt } from 'node:crypto';
import type { Directive } from '../../corefile/parse.js';
import { TYPE, RCODE, CLASS_IN } from '../../wire/message.js';
import type { Plugin, SetupContext } from '../../plugin.js';

const RETRY_MS = 1000;
const CHECK_FOR_MS = 30_000;
const DISABLE_AFTER_ANSWER_MS = 2000;
const LOOP_THRESHOLD = 2;

const randomLabel = (): string => String(randomInt(2 ** 47)) + String(randomInt(1e6));

export function setupLoop(_d: Directive, ctx: SetupContext): Plugin {
  const zone = ctx.zones[0] ?? '.';
  const probe = `${randomLabel()}.${randomLabel()}.${zone === '.' ? '' : zone}`;
  let seen = 0;
  let disabled = false;
  let timer: NodeJS.Timeout | undefined;
  const later = (ms: number, f: () => void): void => {
    timer = setTimeout(f, ms);
    timer.unref();
  };

  const sendProbe = async (deadline: number): Promise<void> => {
    if (disabled) return;
    try {
      await ctx.lookup({ question: { name: probe, type: TYPE.HINFO, class: CLASS_IN }, proto: 'udp', remoteAddress: '127.0.0.1', do: false, udpSize: 0, depth: 1 });
      later(DISABLE_AFTER_ANSWER_MS, () => (disabled = true));
    } catch {
      seen = 0;
      if (Date.now() < deadline) later(RETRY_MS, () => void sendProbe(deadline));
      else disabled = true;
    }
  };

  return {
    name: 'loop',
    async serve(req, next) {
      if (!disabled && req.question.type === TYPE.HINFO && req.question.name.toLowerCase() === probe.toLowerCase() && ++seen > LOOP_THRESHOLD) {
        const msg = `[FATAL] plugin/loop: Loop (${req.remoteAddress} -> :53) detected for zone "${zone}", see https://coredns.io/plugins/loop#troubleshooting. Query: "HINFO ${probe}"`;
        ctx.log.error(msg);
        ctx.env.fatal(msg);
        return { rcode: RCODE.SERVFAIL, aa: false, tc: false, ra: false, answer: [], authority: [], additional: [], plugin: 'loop' };
      }
      return next(req);
    },
    start: async () => later(0, () => void sendProbe(Date.now() + CHECK_FOR_MS)),
    stop: async () => {
      disabled = true;
      clearTimeout(timer);
    },
  };
}
