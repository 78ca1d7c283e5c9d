// rewrite [continue|stop] RULE... or rewrite [continue|stop] { RULE-WORDS }: rewrites the question
// before the rest of the chain sees it, and maps names in the reply back so the client sees
// answers for the name it asked (CoreDNS's ResponseReverter). The server always echoes the
// client's own question, so only the records need reverting here.

import { argError, type Directive } from '../../corefile/parse.js';
import type { Plugin } from '../../plugin.js';
import { parseRule, rewriteRecord, RuleError, type ResponseRule, type Rule } from './rules.js';

const MAX_NAME = 255;
const MAX_LABEL = 63;

/** dns.IsDomainName's length rules, which is what CoreDNS checks a rewritten name against. */
function isDomainName(name: string): boolean {
  if (name === '.') return true;
  if (name.length > MAX_NAME) return false;
  return name
    .replace(/\.$/, '')
    .split('.')
    .every((l) => l.length > 0 && l.length <= MAX_LABEL);
}

/** The words of one rule: the directive's arguments, or the tokens of its block when it has one. */
function ruleWords(d: Directive): string[] {
  if (d.args.length >= 2) return d.args;
  return [...d.args, ...d.block.flatMap((o) => [o.name, ...o.args])];
}

function parseRewrite(d: Directive): Rule {
  try {
    return parseRule(ruleWords(d));
  } catch (e) {
    if (e instanceof RuleError) throw argError(d, e.message);
    throw e;
  }
}

/** One handler for every rewrite directive of a server block, its rules in Corefile order. */
export function setupRewrite(directives: Directive[]): Plugin {
  const rules = directives.map(parseRewrite);
  return {
    name: 'rewrite',
    async serve(req, next) {
      let question = req.question;
      const response: ResponseRule[] = [];
      for (const rule of rules) {
        const done = rule.apply(question);
        if (!done) continue;
        if (!isDomainName(done.question.name)) throw new Error(`invalid name after rewrite: ${done.question.name}`);
        question = done.question;
        // undo in reverse: the last rewrite's names are mapped back first
        response.unshift(...done.response);
        if (rule.mode === 'stop') break;
      }
      if (question === req.question) return next(req);
      const r = await next({ ...req, question });
      if (response.length === 0) return r;
      const revert = (rrs: typeof r.answer) => rrs.map((rr) => rewriteRecord(rr, response));
      return { ...r, answer: revert(r.answer), authority: revert(r.authority), additional: revert(r.additional) };
    },
  };
}
