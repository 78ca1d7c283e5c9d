// A parsed rule -> a predicate over a request. Matchers as Traefik v3 defines them: Host compares
// case-insensitively without the port, a leading '*.' covers exactly one label; Path is exact;
// PathPrefix is a character prefix; the *Regexp forms are unanchored regular expressions.

import { parseRule, type RuleNode } from './rule.js';

/** What a rule can look at; host and path are already normalised (see request-target.ts). */
export interface RouteRequest {
  host: string;
  path: string;
  method: string;
  header(name: string): string | undefined;
  query: URLSearchParams;
  clientIp: string;
}

export type Predicate = (req: RouteRequest) => boolean;

function hostMatcher(pattern: string): Predicate {
  const want = pattern.toLowerCase().replace(/\.$/, '');
  if (want === '*') return () => true;
  if (!want.startsWith('*.')) return (r) => r.host === want;
  return (r) => {
    const dot = r.host.indexOf('.');
    return dot > 0 && `*${r.host.slice(dot)}` === want;
  };
}

function regex(source: string, name: string): RegExp {
  try {
    return new RegExp(source);
  } catch (e) {
    throw new Error(`${name}: invalid regular expression ${JSON.stringify(source)}: ${(e as Error).message}`);
  }
}

function ipv4ToInt(ip: string): number | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(ip);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

/** An IPv4 CIDR or address (IPv6 compared as exact text) -> a membership test. */
export function cidrMatcher(range: string): (ip: string) => boolean {
  const [addr = '', bitsText] = range.split('/');
  const base = ipv4ToInt(addr);
  if (base === undefined) return (ip) => ip === addr || ip === `::ffff:${addr}`;
  const bits = bitsText === undefined ? 32 : Number(bitsText);
  if (!Number.isInteger(bits) || bits < 0 || bits > 32) throw new Error(`invalid CIDR ${range}`);
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (ip) => {
    const v = ipv4ToInt(ip.replace(/^::ffff:/, ''));
    return v !== undefined && (v & mask) >>> 0 === (base & mask) >>> 0;
  };
}

function arity(name: string, args: string[], n: number): void {
  if (args.length !== n) throw new Error(`${name}: expected ${n} argument(s), got ${args.length}`);
}

function call(name: string, args: string[]): Predicate {
  switch (name) {
    case 'Host': {
      const ms = args.map(hostMatcher);
      if (ms.length === 0) throw new Error('Host: expected at least 1 argument');
      return (r) => ms.some((m) => m(r));
    }
    case 'HostRegexp': {
      arity(name, args, 1);
      const re = regex(args[0]!, name);
      return (r) => re.test(r.host);
    }
    case 'Path': {
      arity(name, args, 1);
      const p = args[0]!;
      return (r) => r.path === p;
    }
    case 'PathPrefix': {
      arity(name, args, 1);
      const p = args[0]!;
      return (r) => r.path.startsWith(p);
    }
    case 'PathRegexp': {
      arity(name, args, 1);
      const re = regex(args[0]!, name);
      return (r) => re.test(r.path);
    }
    case 'Method': {
      const ms = args.map((m) => m.toUpperCase());
      return (r) => ms.includes(r.method);
    }
    case 'Header':
    case 'Headers': {
      arity(name, args, 2);
      const [k, v] = args as [string, string];
      return (r) => r.header(k) === v;
    }
    case 'HeaderRegexp':
    case 'HeadersRegexp': {
      arity(name, args, 2);
      const re = regex(args[1]!, name);
      return (r) => re.test(r.header(args[0]!) ?? '');
    }
    case 'Query': {
      if (args.length === 1) return (r) => r.query.has(args[0]!);
      arity(name, args, 2);
      return (r) => r.query.getAll(args[0]!).includes(args[1]!);
    }
    case 'ClientIP': {
      const ms = args.map(cidrMatcher);
      return (r) => ms.some((m) => m(r.clientIp));
    }
    default:
      throw new Error(`unsupported function: ${name}`);
  }
}

function compile(node: RuleNode): Predicate {
  switch (node.kind) {
    case 'call':
      return call(node.name, node.args);
    case 'not': {
      const inner = compile(node.operand);
      return (r) => !inner(r);
    }
    case 'and': {
      const [a, b] = [compile(node.left), compile(node.right)];
      return (r) => a(r) && b(r);
    }
    case 'or': {
      const [a, b] = [compile(node.left), compile(node.right)];
      return (r) => a(r) || b(r);
    }
  }
}

/** Parses and compiles; throws with a message naming the problem. */
export function compileRule(rule: string): Predicate {
  return compile(parseRule(rule));
}
