// Traefik rule expressions -> a syntax tree. Grammar (v3 syntax, v2's Headers() accepted):
//   expr  := and ('||' and)*
//   and   := unary ('&&' unary)*
//   unary := '!' unary | '(' expr ')' | call
//   call  := Name '(' [string (',' string)*] ')'      string: "..." (Go %q escapes) or `...`

export type RuleNode =
  | { kind: 'call'; name: string; args: string[] }
  | { kind: 'not'; operand: RuleNode }
  | { kind: 'and' | 'or'; left: RuleNode; right: RuleNode };

export class RuleSyntaxError extends Error {
  constructor(rule: string, at: number, what: string) {
    super(`error while parsing rule ${rule}: ${what} at position ${at}`);
    this.name = 'RuleSyntaxError';
  }
}

type Token = { t: 'name' | 'string' | '(' | ')' | ',' | '&&' | '||' | '!'; v: string; at: number };

function tokenize(rule: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < rule.length) {
    const c = rule[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '(' || c === ')' || c === ',' || c === '!') {
      out.push({ t: c, v: c, at: i++ });
    } else if ((c === '&' || c === '|') && rule[i + 1] === c) {
      out.push({ t: c === '&' ? '&&' : '||', v: c + c, at: i });
      i += 2;
    } else if (c === '`') {
      const end = rule.indexOf('`', i + 1);
      if (end < 0) throw new RuleSyntaxError(rule, i, 'unterminated string');
      out.push({ t: 'string', v: rule.slice(i + 1, end), at: i });
      i = end + 1;
    } else if (c === '"') {
      let j = i + 1;
      while (j < rule.length && rule[j] !== '"') j += rule[j] === '\\' ? 2 : 1;
      if (j >= rule.length) throw new RuleSyntaxError(rule, i, 'unterminated string');
      try {
        out.push({ t: 'string', v: JSON.parse(rule.slice(i, j + 1)) as string, at: i });
      } catch {
        throw new RuleSyntaxError(rule, i, 'invalid escape in string');
      }
      i = j + 1;
    } else if (/[A-Za-z]/.test(c)) {
      let j = i;
      while (j < rule.length && /[A-Za-z0-9]/.test(rule[j]!)) j++;
      out.push({ t: 'name', v: rule.slice(i, j), at: i });
      i = j;
    } else {
      throw new RuleSyntaxError(rule, i, `unexpected character ${JSON.stringify(c)}`);
    }
  }
  return out;
}

export function parseRule(rule: string): RuleNode {
  const tokens = tokenize(rule);
  let pos = 0;
  const peek = (): Token | undefined => tokens[pos];
  const expect = (t: Token['t']): Token => {
    const tok = tokens[pos];
    if (!tok || tok.t !== t) throw new RuleSyntaxError(rule, tok?.at ?? rule.length, `expected ${t}`);
    pos++;
    return tok;
  };
  const binary = (kind: 'and' | 'or', op: '&&' | '||', next: () => RuleNode) => (): RuleNode => {
    let left = next();
    while (peek()?.t === op) {
      pos++;
      left = { kind, left, right: next() };
    }
    return left;
  };
  const unary = (): RuleNode => {
    const tok = peek();
    if (tok?.t === '!') {
      pos++;
      return { kind: 'not', operand: unary() };
    }
    if (tok?.t === '(') {
      pos++;
      const inner = or();
      expect(')');
      return inner;
    }
    const name = expect('name').v;
    expect('(');
    const args: string[] = [];
    if (peek()?.t !== ')') {
      args.push(expect('string').v);
      while (peek()?.t === ',') {
        pos++;
        args.push(expect('string').v);
      }
    }
    expect(')');
    return { kind: 'call', name, args };
  };
  const and = binary('and', '&&', unary);
  const or = binary('or', '||', and);
  if (tokens.length === 0) throw new RuleSyntaxError(rule, 0, 'empty rule');
  const tree = or();
  if (pos < tokens.length) throw new RuleSyntaxError(rule, tokens[pos]!.at, 'unexpected token');
  return tree;
}
