// The rules of CoreDNS's rewrite plugin that kemu supports, parsed from their arguments:
//   name [exact|prefix|suffix|substring|regex] FROM TO [answer auto | answer name FROM TO | answer value FROM TO]...
//   type FROM TO, class FROM TO
// A rule rewrites the question on the way in; the response rules it returns map names in the
// reply back (exact rules always do, others with `answer ...`). Names are matched lower-cased and
// absolute, as CoreDNS's state.Name(); regex replacements use {N} for capture groups.

import { TYPE, typeFromName, type Question, type RR } from '../../wire/message.js';

export type Mode = 'stop' | 'continue';

export interface ResponseRule {
  /** `name` rewrites owner names, `value` the names inside CNAME/NS/SOA/SRV/MX records */
  field: 'name' | 'value';
  rewrite(name: string): string;
}

export interface Rule {
  mode: Mode;
  /** the rewritten question and the response rules it brings, or undefined when the rule does not match */
  apply(q: Question): { question: Question; response: ResponseRule[] } | undefined;
}

export class RuleError extends Error {}

/** plugin.Name(x).Normalize(): lower case with a trailing dot. */
const normalize = (s: string): string => (s.endsWith('.') ? s : `${s}.`).toLowerCase();

const GROUP_REF = /\{(\d+)\}/g;

function compile(pattern: string, replacement: string): RegExp {
  let re: RegExp;
  try {
    re = new RegExp(pattern);
  } catch {
    throw new RuleError(`invalid regex matching pattern: ${pattern}`);
  }
  const groups = new RegExp(`${re.source}|`).exec('')!.length - 1;
  const used = new Set([...replacement.matchAll(GROUP_REF)].map((m) => m[1])).size;
  if (used > groups) throw new RuleError(`the rewrite regex pattern (${replacement}) uses more subexpressions than its corresponding matching regex pattern (${pattern})`);
  return re;
}

/** `replacement` with {N} replaced by group N of the match, or undefined when `re` does not match. */
function regexRewrite(re: RegExp, replacement: string, src: string): string | undefined {
  const m = re.exec(src);
  if (!m) return undefined;
  return replacement.replace(GROUP_REF, (ref, n: string) => (Number(n) < m.length ? (m[Number(n)] ?? '') : ref));
}

/** Maps `from` (and any name below it) to `to`: the reverse of an exact or auto name rewrite. */
function remap(from: string, to: string): (s: string) => string {
  return (s) => (s === from ? to : s.endsWith(`.${from}`) ? s.slice(0, s.length - from.length) + to : s);
}

const bothFields = (rewrite: (s: string) => string): ResponseRule[] => [
  { field: 'name', rewrite },
  { field: 'value', rewrite },
];

interface AnswerRules {
  auto: boolean;
  rules: ResponseRule[];
}

function parseAnswerRules(matchType: string, args: string[]): AnswerRules {
  const out: AnswerRules = { auto: false, rules: [] };
  let explicitNames = 0;
  let i = 0;
  if (args.length < 2) throw new RuleError(`invalid arguments for ${matchType} rule`);
  while (i < args.length) {
    // only the first answer rule needs its `answer` keyword
    if (args[i] === 'answer') i++;
    else if (i === 0) throw new RuleError(`exceeded the number of arguments for a non-answer rule argument for ${matchType} rule`);
    const kind = args[i++];
    if (kind === undefined) throw new RuleError(`type missing for answer rule for ${matchType} rule`);
    if (kind === 'auto') {
      out.auto = true;
      continue;
    }
    if (kind !== 'name' && kind !== 'value') throw new RuleError(`invalid type "${kind}" for answer rule for ${matchType} rule`);
    const [from, to] = [args[i], args[i + 1]];
    if (from === undefined || to === undefined) throw new RuleError(`${kind} answer rule for ${matchType} rule: 2 arguments required`);
    const re = compile(from, to);
    const replacement = normalize(to);
    out.rules.push({ field: kind, rewrite: (s) => regexRewrite(re, replacement, s) ?? s });
    if (kind === 'name') explicitNames++;
    i += 2;
  }
  if (out.auto && explicitNames > 0) throw new RuleError('auto name answer rule cannot be combined with explicit name answer rules');
  return out;
}

function nameRule(mode: Mode, args: string[]): Rule {
  if (args.length < 2) throw new RuleError('too few arguments for a name rule');
  const [matchType, rawFrom, rawTo] = args.length === 2 ? ['exact', args[0]!, args[1]!] : [args[0]!.toLowerCase(), args[1]!, args[2]!];
  const answers = args.length > 3 ? parseAnswerRules(matchType, args.slice(3)) : { auto: false, rules: [] };
  const from = matchType === 'regex' ? rawFrom : normalize(rawFrom);
  const to = normalize(rawTo);
  const rule = (rewrite: (name: string) => string | undefined, auto: boolean, fixed: ResponseRule[] = []): Rule => ({
    mode,
    apply(q) {
      const name = q.name.toLowerCase().replace(/\.?$/, '.');
      const next = rewrite(name);
      if (next === undefined) return undefined;
      // auto: whatever the reply says about the new name is said about the name asked for
      return { question: { ...q, name: next }, response: [...(auto ? bothFields(remap(next, name)) : []), ...fixed, ...answers.rules] };
    },
  });
  switch (matchType) {
    case 'exact':
      return rule((n) => (n === from ? to : undefined), true);
    case 'prefix':
      return rule((n) => (n.startsWith(from) ? to + n.slice(from.length) : undefined), answers.auto);
    case 'suffix': {
      // for suffixes, auto swaps the suffixes back rather than remapping one name
      const back = (s: string): string => (s.endsWith(to) ? s.slice(0, s.length - to.length) + from : s);
      return rule((n) => (n.endsWith(from) ? n.slice(0, n.length - from.length) + to : undefined), false, answers.auto ? bothFields(back) : []);
    }
    case 'substring':
      return rule((n) => (n.includes(from) ? n.replaceAll(from, to) : undefined), answers.auto);
    case 'regex': {
      const re = compile(from, rawTo);
      return rule((n) => regexRewrite(re, to, n), answers.auto);
    }
    default:
      throw new RuleError(`name rule supports only exact, prefix, suffix, substring, and regex name matching, received: ${matchType}`);
  }
}

const CLASSES: Record<string, number> = { IN: 1, CH: 3, HS: 4 };

function fieldRule(mode: Mode, field: 'type' | 'class', args: string[]): Rule {
  if (args.length !== 2) throw new RuleError(`${field} rules must have exactly two arguments`);
  const code = (s: string): number => {
    const v = field === 'type' ? typeFromName(s) : CLASSES[s.toUpperCase()];
    if (v === undefined) throw new RuleError(`invalid ${field} ${JSON.stringify(s)}`);
    return v;
  };
  const [from, to] = [code(args[0]!), code(args[1]!)];
  return {
    mode,
    apply: (q) => (q[field] === from ? { question: { ...q, [field]: to }, response: [] } : undefined),
  };
}

/** One rule from a rewrite directive's words, e.g. ['stop', 'name', 'regex', '(.*)\\.a', '{1}.b']. */
export function parseRule(words: string[]): Rule {
  if (words.length === 0) throw new RuleError('no rule type specified for rewrite');
  const first = words[0]!.toLowerCase();
  const mode: Mode = first === 'continue' ? 'continue' : 'stop';
  const rest = first === 'continue' || first === 'stop' ? words.slice(1) : words;
  const field = (rest[0] ?? '').toLowerCase();
  const args = rest.slice(1);
  switch (field) {
    case 'name':
      return nameRule(mode, args);
    case 'type':
    case 'class':
      return fieldRule(mode, field, args);
    case 'answer':
      throw new RuleError('response rewrites must begin with a name rule');
    case 'edns0':
    case 'ttl':
    case 'cname':
    case 'rcode':
      throw new RuleError(`rule type "${field}" is not supported by kemu (supported: name, type, class)`);
    default:
      throw new RuleError(`invalid rule type "${rest[0] ?? ''}"`);
  }
}

/** The record with its owner name (`name` rules) and the name in its data (`value` rules: CoreDNS getRecordValueForRewrite) mapped. */
export function rewriteRecord(rr: RR, rules: readonly ResponseRule[]): RR {
  let out = rr;
  for (const r of rules) {
    if (r.field === 'name') out = { ...out, name: r.rewrite(out.name) };
    else out = { ...out, data: rewriteValue(out, r.rewrite) };
  }
  return out;
}

function rewriteValue(rr: RR, f: (s: string) => string): RR['data'] {
  const d = rr.data;
  switch (d.kind) {
    case 'name':
      // PTR data is not a value CoreDNS rewrites
      return rr.type === TYPE.PTR ? d : { ...d, target: f(d.target) };
    case 'srv':
      return { ...d, target: f(d.target) };
    case 'mx':
      return { ...d, exchange: f(d.exchange) };
    case 'soa':
      return { ...d, mname: f(d.mname) };
    default:
      return d;
  }
}
