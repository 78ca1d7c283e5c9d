// loadbalance [round_robin]: shuffles the A, AAAA and MX records of every answer; CNAMEs and
// other records keep their place in front, which is what glibc expects.

import { randomInt } from 'node:crypto';
import { argError, type Directive } from '../../corefile/parse.js';
import { TYPE, type RR } from '../../wire/message.js';
import type { Plugin } from '../../plugin.js';

const SHUFFLED = new Set<number>([TYPE.A, TYPE.AAAA, TYPE.MX]);

export function shuffleAddresses(rrs: RR[]): RR[] {
  const fixed = rrs.filter((r) => !SHUFFLED.has(r.type));
  const moving = rrs.filter((r) => SHUFFLED.has(r.type));
  for (let i = moving.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [moving[i], moving[j]] = [moving[j]!, moving[i]!];
  }
  return [...fixed, ...moving];
}

export function setupLoadbalance(d: Directive): Plugin {
  if (d.args.length > 0 && d.args[0] !== 'round_robin') throw argError(d, `unknown policy: ${d.args[0]}`);
  return {
    name: 'loadbalance',
    async serve(req, next) {
      const r = await next(req);
      return r.answer.length > 1 ? { ...r, answer: shuffleAddresses(r.answer) } : r;
    },
  };
}
