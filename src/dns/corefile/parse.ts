// Corefile parser: server blocks (`.:53 {`, `example.org:1053 in-addr.arpa {`) holding plugin
// directives with arguments and optional nested blocks, as Caddy's dispenser reads them for
// CoreDNS. Errors carry the line, worded like CoreDNS: `Corefile:7 - Error during parsing: ...`.

export interface Directive {
  name: string;
  args: string[];
  /** the directive's `{ ... }` block, one entry per line inside it */
  block: Directive[];
  line: number;
}

export interface ServerKey {
  /** absolute, lower case: 'cluster.local.', '.' */
  zone: string;
  port: number;
}

export interface ServerBlock {
  keys: ServerKey[];
  directives: Directive[];
  line: number;
}

export class CorefileError extends Error {
  constructor(
    readonly line: number,
    detail: string,
  ) {
    super(`Corefile:${line} - Error during parsing: ${detail}`);
  }
}

interface Token {
  text: string;
  line: number;
  /** a token that starts a new line of the file */
  first: boolean;
  quoted: boolean;
}

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let lastLine = 0;
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === '\n') {
      line++;
      i++;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    if (c === '#') {
      while (i < src.length && src[i] !== '\n') i++;
      continue;
    }
    const first = line !== lastLine;
    lastLine = line;
    if (c === '"') {
      const startLine = line;
      let text = '';
      i++;
      while (i < src.length && src[i] !== '"') {
        if (src[i] === '\\' && src[i + 1] === '"') i++;
        if (src[i] === '\n') line++;
        text += src[i];
        i++;
      }
      if (i >= src.length) throw new CorefileError(startLine, 'unterminated quoted string');
      i++;
      tokens.push({ text, line: startLine, first, quoted: true });
      continue;
    }
    let text = '';
    while (i < src.length && !/[\s#]/.test(src[i]!)) text += src[i++];
    tokens.push({ text, line, first, quoted: false });
  }
  return tokens;
}

const isOpen = (t: Token | undefined): boolean => t !== undefined && !t.quoted && t.text === '{';
const isClose = (t: Token | undefined): boolean => t !== undefined && !t.quoted && t.text === '}';

function parseKey(text: string, line: number): ServerKey[] {
  return text
    .split(',')
    .filter((k) => k !== '')
    .map((raw) => {
      const k = raw.replace(/^dns:\/\//, '');
      if (/^[a-z]+:\/\//.test(k)) throw new CorefileError(line, `unsupported transport in server address '${raw}'`);
      const m = /^(.*?)(?::(\d+))?$/.exec(k)!;
      const host = m[1] || '.';
      const port = m[2] === undefined ? 53 : Number(m[2]);
      if (port > 65535) throw new CorefileError(line, `invalid port in server address '${raw}'`);
      const zone = host === '.' ? '.' : `${host.replace(/\.$/, '').toLowerCase()}.`;
      return { zone, port };
    });
}

export function parseCorefile(src: string): ServerBlock[] {
  const tokens = tokenize(src);
  let pos = 0;

  // Directives until the closing brace of the enclosing block (or the end when `toEnd`).
  const directives = (toEnd: boolean, openLine: number): Directive[] => {
    const out: Directive[] = [];
    for (;;) {
      const t = tokens[pos];
      if (t === undefined) {
        if (toEnd) return out;
        throw new CorefileError(openLine, "unexpected end of file: missing '}'");
      }
      if (isClose(t)) {
        if (toEnd) throw new CorefileError(t.line, "unexpected '}'");
        pos++;
        return out;
      }
      if (isOpen(t)) throw new CorefileError(t.line, "unexpected '{'");
      pos++;
      const d: Directive = { name: t.text, args: [], block: [], line: t.line };
      while (pos < tokens.length && !tokens[pos]!.first && !isOpen(tokens[pos]) && !isClose(tokens[pos])) d.args.push(tokens[pos++]!.text);
      if (isOpen(tokens[pos]) && tokens[pos]!.line === t.line) {
        pos++;
        d.block = directives(false, t.line);
      }
      out.push(d);
    }
  };

  const blocks: ServerBlock[] = [];
  while (pos < tokens.length) {
    const start = tokens[pos]!;
    if (isOpen(start) || isClose(start)) throw new CorefileError(start.line, `unexpected '${start.text}'`);
    const keys: ServerKey[] = [];
    while (pos < tokens.length && tokens[pos]!.line === start.line && !isOpen(tokens[pos])) keys.push(...parseKey(tokens[pos++]!.text, start.line));
    if (isOpen(tokens[pos])) {
      pos++;
      blocks.push({ keys, directives: directives(false, start.line), line: start.line });
    } else if (blocks.length === 0) {
      // a single server block may leave out its braces
      blocks.push({ keys, directives: directives(true, start.line), line: start.line });
    } else {
      throw new CorefileError(start.line, `expected '{' after server address '${keys.map((k) => k.zone).join(' ')}'`);
    }
  }
  if (blocks.length === 0) throw new CorefileError(1, 'no server blocks');
  return blocks;
}

/** The error for a bad argument of directive `d`, naming its line. */
export function argError(d: Directive, detail: string): CorefileError {
  return new CorefileError(d.line, `${d.name}: ${detail}`);
}
