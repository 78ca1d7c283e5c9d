// Label selectors as k8s.io/apimachinery/pkg/labels has them: the string syntax kubectl's -l and
// the API's ?labelSelector= take, the structured LabelSelector of Deployments and ReplicaSets, and
// matching a set of labels against either.

import type { LabelSelector } from './types.js';
import { isQualifiedName, isValidLabelValue } from './validation/names.js';

export type Operator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | 'Equals' | 'NotEquals';

export interface Requirement {
  key: string;
  operator: Operator;
  values: string[];
}

// ---- lexer ---------------------------------------------------------------------------------------

type TokenKind =
  | 'identifier'
  | 'end'
  | 'error'
  | '('
  | ')'
  | ','
  | '!'
  | '='
  | '=='
  | '!='
  | '>'
  | '<'
  | 'in'
  | 'notin';

interface Token {
  kind: TokenKind;
  literal: string;
}

const SYMBOLS: Record<string, TokenKind> = { '(': '(', ')': ')', ',': ',', '!': '!', '=': '=', '==': '==', '!=': '!=', '>': '>', '<': '<' };
const KEYWORDS: Record<string, TokenKind> = { in: 'in', notin: 'notin' };

const isWhitespace = (c: string): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n';
const isSymbolChar = (c: string): boolean => '=!(),><'.includes(c);

function tokenize(s: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  for (;;) {
    while (i < s.length && isWhitespace(s[i])) i++;
    if (i >= s.length) {
      tokens.push({ kind: 'end', literal: '' });
      return tokens;
    }
    if (isSymbolChar(s[i])) {
      // Longest run of symbol characters that still forms a known operator ('!=' before '!').
      let buf = '';
      let last: Token | undefined;
      while (i < s.length && isSymbolChar(s[i])) {
        const next = buf + s[i];
        if (SYMBOLS[next]) {
          last = { kind: SYMBOLS[next], literal: next };
        } else if (last) {
          break;
        }
        buf = next;
        i++;
      }
      tokens.push(last ?? { kind: 'error', literal: `error expected: keyword found '${buf}'` });
      continue;
    }
    let word = '';
    while (i < s.length && !isSymbolChar(s[i]) && !isWhitespace(s[i])) word += s[i++];
    tokens.push({ kind: KEYWORDS[word] ?? 'identifier', literal: word });
  }
}

// ---- parser --------------------------------------------------------------------------------------

/** Where a keyword may also be a plain word: `in` and `notin` are valid label keys and values. */
type Context = 'keyAndOperator' | 'values';

class Parser {
  private pos = 0;
  constructor(private readonly tokens: Token[]) {}

  lookahead(ctx: Context): Token {
    const t = this.tokens[this.pos];
    return ctx === 'values' && (t.kind === 'in' || t.kind === 'notin') ? { kind: 'identifier', literal: t.literal } : t;
  }

  consume(ctx: Context): Token {
    const t = this.lookahead(ctx);
    if (this.pos < this.tokens.length - 1) this.pos++;
    return t;
  }
}

const BINARY_OPERATORS = 'in, notin, =, ==, !=, gt, lt';

function parseRequirement(p: Parser): Requirement {
  let tok = p.consume('values');
  let negated = false;
  if (tok.kind === '!') {
    negated = true;
    tok = p.consume('values');
  }
  if (tok.kind !== 'identifier') throw new Error(`found '${tok.literal}', expected: identifier`);
  const key = tok.literal;
  // apimachinery checks the key here against a nil field path, hence the '<nil>' in its message.
  const keyErrs = isQualifiedName(key);
  if (keyErrs.length) throw new Error(`<nil>: Invalid value: ${JSON.stringify(key)}: ${keyErrs.join('; ')}`);

  // `!key` stands alone: whatever follows it is the caller's to reject.
  if (negated) return newRequirement(key, 'DoesNotExist', []);
  const next = p.lookahead('values').kind;
  if (next === 'end' || next === ',') return newRequirement(key, 'Exists', []);

  const opTok = p.consume('keyAndOperator');
  switch (opTok.kind) {
    case 'in':
    case 'notin':
      return newRequirement(key, opTok.kind === 'in' ? 'In' : 'NotIn', parseValueSet(p));
    case '=':
    case '==':
    case '!=':
      return newRequirement(key, opTok.kind === '!=' ? 'NotEquals' : 'Equals', [parseExactValue(p)]);
    case '>':
    case '<':
      throw new Error(`operator '${opTok.literal}' is not supported by kemu (numeric label comparison)`);
    default:
      throw new Error(`found '${opTok.literal}', expected: ${BINARY_OPERATORS}`);
  }
}

function parseExactValue(p: Parser): string {
  const ahead = p.lookahead('values');
  if (ahead.kind === 'end' || ahead.kind === ',') return '';
  const tok = p.consume('values');
  if (tok.kind === 'identifier') return tok.literal;
  throw new Error(`found '${tok.literal}', expected: identifier`);
}

/** `(a,b,c)`; empty members such as `(,a)` or `()` stand for the empty value, as upstream. */
function parseValueSet(p: Parser): string[] {
  const open = p.consume('values');
  if (open.kind !== '(') throw new Error(`found '${open.literal}' expected: '('`);
  const values = new Set<string>();
  const first = p.lookahead('values');
  if (first.kind === ')') {
    p.consume('values');
    return [''];
  }
  if (first.kind !== 'identifier' && first.kind !== ',') throw new Error(`found '${first.literal}', expected: ',', ')' or identifier`);
  let expectValue = true; // at the start and after each ','
  for (;;) {
    const tok = p.consume('values');
    if (tok.kind === 'identifier' && expectValue) {
      values.add(tok.literal);
      expectValue = false;
      const after = p.lookahead('values');
      if (after.kind !== ',' && after.kind !== ')') throw new Error(`found '${after.literal}', expected: ',' or ')'`);
    } else if (tok.kind === ',') {
      if (expectValue) values.add('');
      expectValue = true;
      if (p.lookahead('values').kind === ')') values.add('');
    } else if (tok.kind === ')') {
      return [...values].sort();
    } else {
      throw new Error(`found '${tok.literal}', expected: ',', or identifier`);
    }
  }
}

/** Builds a requirement after the checks apimachinery's NewRequirement makes. */
function newRequirement(key: string, operator: Operator, values: string[]): Requirement {
  const keyErrs = isQualifiedName(key);
  if (keyErrs.length) throw new Error(`key: Invalid value: ${JSON.stringify(key)}: ${keyErrs.join('; ')}`);
  const rendered = `[]string{${values.map((v) => JSON.stringify(v)).join(', ')}}`;
  if ((operator === 'In' || operator === 'NotIn') && values.length === 0) {
    throw new Error(`values: Invalid value: ${rendered}: for 'in', 'notin' operators, values set can't be empty`);
  }
  if ((operator === 'Equals' || operator === 'NotEquals') && values.length !== 1) {
    throw new Error(`values: Invalid value: ${rendered}: exact-match compatibility requires one single value`);
  }
  if ((operator === 'Exists' || operator === 'DoesNotExist') && values.length !== 0) {
    throw new Error(`values: Invalid value: ${rendered}: values set must be empty for exists and does not exist`);
  }
  values.forEach((v, i) => {
    const errs = isValidLabelValue(v);
    if (errs.length) throw new Error(`values[${i}][${key}]: Invalid value: ${JSON.stringify(v)}: ${errs.join('; ')}`);
  });
  return { key, operator, values };
}

const byKey = (a: Requirement, b: Requirement): number => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/** Parses `a=b,c!=d,e in (x,y),f notin (z),g,!h`; '' gives [] (everything). Sorted by key as upstream. */
export function parseSelector(s: string): Requirement[] {
  const p = new Parser(tokenize(s));
  const reqs: Requirement[] = [];
  for (;;) {
    const ahead = p.lookahead('values');
    if (ahead.kind === 'end') break;
    if (ahead.kind !== 'identifier' && ahead.kind !== '!') {
      throw new Error(`found '${ahead.literal}', expected: !, identifier, or 'end of string'`);
    }
    try {
      reqs.push(parseRequirement(p));
    } catch (e) {
      throw new Error(`unable to parse requirement: ${(e as Error).message}`);
    }
    const sep = p.consume('values');
    if (sep.kind === 'end') break;
    if (sep.kind !== ',') throw new Error(`found '${sep.literal}', expected: ',' or 'end of string'`);
    const after = p.lookahead('values');
    if (after.kind !== 'identifier' && after.kind !== '!') throw new Error(`found '${after.literal}', expected: identifier after ','`);
  }
  return reqs.sort(byKey);
}

/**
 * matchLabels + matchExpressions as requirements, sorted by key. An absent selector gives [] (which
 * matches everything): callers for which a missing selector means "nothing" must check for it.
 * Throws on an unknown operator or invalid key/value, as LabelSelectorAsSelector does.
 */
export function selectorFromLabelSelector(ls: LabelSelector | undefined): Requirement[] {
  if (!ls) return [];
  const reqs: Requirement[] = [];
  for (const [k, v] of Object.entries(ls.matchLabels ?? {})) reqs.push(newRequirement(k, 'Equals', [v]));
  for (const expr of ls.matchExpressions ?? []) {
    const op = expr.operator as string;
    if (op !== 'In' && op !== 'NotIn' && op !== 'Exists' && op !== 'DoesNotExist') {
      throw new Error(`${JSON.stringify(op)} is not a valid label selector operator`);
    }
    reqs.push(newRequirement(expr.key, op, [...(expr.values ?? [])]));
  }
  return reqs.sort(byKey);
}

function matchesRequirement(labels: Record<string, string>, r: Requirement): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  switch (r.operator) {
    case 'In':
    case 'Equals':
      return has && r.values.includes(labels[r.key]);
    case 'NotIn':
    case 'NotEquals':
      return !has || !r.values.includes(labels[r.key]);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
  }
}

/** True when the labels satisfy every requirement; [] matches everything. */
export function matchesSelector(labels: Record<string, string> | undefined, reqs: Requirement[]): boolean {
  const l = labels ?? {};
  return reqs.every((r) => matchesRequirement(l, r));
}

/** One requirement the way apimachinery's Requirement.String() writes it. */
export function formatRequirement(r: Requirement): string {
  const vals = [...r.values].sort();
  switch (r.operator) {
    case 'Exists':
      return r.key;
    case 'DoesNotExist':
      return `!${r.key}`;
    case 'Equals':
      return `${r.key}=${vals[0]}`;
    case 'NotEquals':
      return `${r.key}!=${vals[0]}`;
    case 'In':
      return `${r.key} in (${vals.join(',')})`;
    case 'NotIn':
      return `${r.key} notin (${vals.join(',')})`;
  }
}

/**
 * The selector as kubectl prints it (`app=web,tier in (a,b)`): '' for an absent or empty selector
 * (callers show '<none>'), '<error>' for one that does not parse, as metav1.FormatLabelSelector.
 */
export function formatLabelSelector(ls: LabelSelector | undefined): string {
  let reqs: Requirement[];
  try {
    reqs = selectorFromLabelSelector(ls);
  } catch {
    return '<error>';
  }
  return reqs.map(formatRequirement).join(',');
}
