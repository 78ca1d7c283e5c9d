// `forward FROM TO... { except, force_tcp, prefer_udp, max_fails, health_check, policy,
// max_concurrent, expire }` as CoreDNS's forward/setup.go reads it. A TO that is a file path is
// a resolv.conf whose nameservers become the upstreams (port 53).

import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { argError, type Directive } from '../../corefile/parse.js';
import { parseHostPort, type Upstream } from '../../exchange.js';
import { normalizeZone } from '../kubernetes/setup.js';

export interface ForwardConfig {
  from: string;
  except: string[];
  upstreams: Upstream[];
  forceTcp: boolean;
  preferUdp: boolean;
  maxFails: number;
  healthCheckMs: number;
  policy: 'random' | 'round_robin' | 'sequential';
  maxConcurrent: number;
}

const MAX_UPSTREAMS = 15;

export function parseDuration(text: string | undefined): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text ?? '');
  if (!m) return undefined;
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
}

function nameserversOf(path: string): string[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1])
    .filter((x): x is string => x !== undefined);
}

export function parseForward(d: Directive): ForwardConfig {
  const [from, ...to] = d.args;
  if (!from || to.length === 0) throw argError(d, 'Wrong argument count or unexpected line ending after \'forward\'');
  const upstreams: Upstream[] = [];
  for (const t of to) {
    const hosts = t.includes('/') && !t.startsWith('dns://') ? nameserversOf(t) : [t];
    for (const h of hosts) {
      const u = parseHostPort(h);
      if (!u || !isIP(u.host)) throw argError(d, `not an IP address or file: "${h}"`);
      upstreams.push(u);
    }
  }
  if (upstreams.length === 0) throw argError(d, 'no nameservers found');
  if (upstreams.length > MAX_UPSTREAMS) throw argError(d, `more than ${MAX_UPSTREAMS} TOs configured: ${upstreams.length}`);
  const cfg: ForwardConfig = {
    from: normalizeZone(d, from), except: [], upstreams, forceTcp: false, preferUdp: false, maxFails: 2, healthCheckMs: 500, policy: 'random', maxConcurrent: 0,
  };
  for (const o of d.block) {
    const num = (): number => {
      const n = Number(o.args[0]);
      if (o.args.length !== 1 || !Number.isInteger(n) || n < 0) throw argError(o, `${o.name} needs a non-negative integer`);
      return n;
    };
    switch (o.name) {
      case 'except':
        cfg.except = o.args.map((a) => normalizeZone(o, a));
        break;
      case 'force_tcp':
        cfg.forceTcp = true;
        break;
      case 'prefer_udp':
        cfg.preferUdp = true;
        break;
      case 'max_fails':
        cfg.maxFails = num();
        break;
      case 'max_concurrent':
        cfg.maxConcurrent = num();
        break;
      case 'health_check': {
        const ms = parseDuration(o.args[0]);
        if (ms === undefined) throw argError(o, `invalid duration '${o.args[0] ?? ''}'`);
        cfg.healthCheckMs = ms;
        break;
      }
      case 'policy':
        if (!['random', 'round_robin', 'sequential'].includes(o.args[0] ?? '')) throw argError(o, `unknown policy '${o.args[0] ?? ''}'`);
        cfg.policy = o.args[0] as ForwardConfig['policy'];
        break;
      case 'expire':
        if (parseDuration(o.args[0]) === undefined) throw argError(o, `invalid duration '${o.args[0] ?? ''}'`);
        break;
      default:
        throw argError(o, `unknown property '${o.name}'`);
    }
  }
  if (cfg.forceTcp && cfg.preferUdp) throw argError(d, 'force_tcp and prefer_udp are mutually exclusive');
  return cfg;
}
