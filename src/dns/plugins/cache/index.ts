// cache [TTL] [ZONES...] { success CAP [TTL [MINTTL]], denial CAP [TTL [MINTTL]], disable
// success|denial [ZONES...] }: keeps positive and negative replies for at most TTL seconds (caps
// 3600 / 1800, minimum 5), ages their TTLs when served, and never caches truncated replies or
// errors.

import { randomInt } from 'node:crypto';
import { argError, type Directive } from '../../corefile/parse.js';
import { isSubdomain, RCODE, type RR } from '../../wire/message.js';
import type { DnsRequest, Plugin, Reply, SetupContext } from '../../plugin.js';
import { normalizeZone } from '../kubernetes/setup.js';

type Kind = 'success' | 'denial';

interface Policy {
  capacity: number;
  maxTtl: number;
  minTtl: number;
  disabledIn: string[];
}

interface Entry {
  reply: Reply;
  storedAt: number;
  ttl: number;
}

const CAPACITY = 9984;

function parsePositive(d: Directive, text: string | undefined): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw argError(d, `invalid number '${text ?? ''}'`);
  return n;
}

class CachePlugin implements Plugin {
  readonly name = 'cache';
  private readonly entries: Record<Kind, Map<string, Entry>> = { success: new Map(), denial: new Map() };

  constructor(
    private readonly zones: string[],
    private readonly policy: Record<Kind, Policy>,
    private readonly ctx: SetupContext,
  ) {}

  private kindOf(r: Reply): Kind | undefined {
    if (r.tc) return undefined;
    if (r.rcode === RCODE.NXDOMAIN || (r.rcode === RCODE.NOERROR && r.answer.length === 0)) return 'denial';
    return r.rcode === RCODE.NOERROR ? 'success' : undefined;
  }

  private ttlOf(kind: Kind, r: Reply): number {
    const p = this.policy[kind];
    const rrs: RR[] = kind === 'success' ? [...r.answer, ...r.authority] : r.authority;
    let ttl = rrs.length ? Math.min(...rrs.map((x) => (x.data.kind === 'soa' ? Math.min(x.ttl, x.data.minimum) : x.ttl))) : p.minTtl;
    ttl = Math.min(ttl, p.maxTtl);
    return Math.max(ttl, p.minTtl);
  }

  async serve(req: DnsRequest, next: (r: DnsRequest) => Promise<Reply>): Promise<Reply> {
    const q = req.question;
    if (!this.zones.some((z) => isSubdomain(q.name, z))) return next(req);
    const key = `${q.name.toLowerCase()}|${q.type}|${req.do ? 1 : 0}`;
    const now = Date.now();
    for (const kind of ['success', 'denial'] as const) {
      const e = this.entries[kind].get(key);
      if (!e) continue;
      const age = Math.floor((now - e.storedAt) / 1000);
      if (age < e.ttl) {
        this.ctx.env.metrics.inc('coredns_cache_hits_total', 'The count of cache hits.', { server: 'dns://:53', type: kind, zones: this.zones.join(' '), view: '' });
        return this.aged(e, age, q.name);
      }
      this.entries[kind].delete(key);
    }
    this.ctx.env.metrics.inc('coredns_cache_misses_total', 'The count of cache misses.', { server: 'dns://:53', zones: this.zones.join(' '), view: '' });
    const r = await next(req);
    const kind = this.kindOf(r);
    if (kind && !this.policy[kind].disabledIn.some((z) => isSubdomain(q.name, z))) this.store(kind, key, r);
    return r;
  }

  private store(kind: Kind, key: string, r: Reply): void {
    const map = this.entries[kind];
    if (map.size >= this.policy[kind].capacity) {
      const victim = [...map.keys()][randomInt(map.size)]!;
      map.delete(victim);
    }
    map.set(key, { reply: r, storedAt: Date.now(), ttl: this.ttlOf(kind, r) });
  }

  private aged(e: Entry, age: number, qname: string): Reply {
    const left = e.ttl - age;
    const age1 = (rrs: RR[]): RR[] => rrs.map((x) => ({ ...x, ttl: Math.min(x.ttl, left) }));
    // owners that repeat the question follow the new query's spelling
    const respell = (rrs: RR[]): RR[] => rrs.map((x) => (x.name.toLowerCase() === qname.toLowerCase() ? { ...x, name: qname } : x));
    return { ...e.reply, aa: true, answer: respell(age1(e.reply.answer)), authority: age1(e.reply.authority), additional: age1(e.reply.additional) };
  }
}

export function setupCache(d: Directive, ctx: SetupContext): Plugin {
  let maxTtl: number | undefined;
  let args = d.args;
  if (args[0] !== undefined && /^\d+$/.test(args[0])) {
    maxTtl = parsePositive(d, args[0]);
    args = args.slice(1);
  }
  const zones = args.length ? args.map((a) => normalizeZone(d, a)) : ctx.zones;
  const policy: Record<Kind, Policy> = {
    success: { capacity: CAPACITY, maxTtl: maxTtl ?? 3600, minTtl: 5, disabledIn: [] },
    denial: { capacity: CAPACITY, maxTtl: maxTtl ?? 1800, minTtl: 5, disabledIn: [] },
  };
  for (const o of d.block) {
    switch (o.name) {
      case 'success':
      case 'denial': {
        const p = policy[o.name];
        if (o.args.length < 1 || o.args.length > 3) throw argError(o, `${o.name} needs CAPACITY [TTL [MINTTL]]`);
        p.capacity = parsePositive(o, o.args[0]);
        if (o.args[1] !== undefined) p.maxTtl = parsePositive(o, o.args[1]);
        if (o.args[2] !== undefined) p.minTtl = parsePositive(o, o.args[2]);
        break;
      }
      case 'disable': {
        const kind = o.args[0];
        if (kind !== 'success' && kind !== 'denial') throw argError(o, `disable needs 'success' or 'denial', got '${kind ?? ''}'`);
        policy[kind].disabledIn = o.args.length > 1 ? o.args.slice(1).map((a) => normalizeZone(o, a)) : ['.'];
        break;
      }
      case 'prefetch':
      case 'serve_stale':
      case 'keepttl':
        break; // accepted; this cache neither prefetches nor serves stale entries
      default:
        throw argError(o, `unknown property '${o.name}'`);
    }
  }
  return new CachePlugin(zones, policy, ctx);
}

