// hosts [FILE [ZONES...]] { INLINE-ENTRIES; ttl SECONDS; no_reverse; reload DURATION; fallthrough [ZONES...] }
// as CoreDNS's hosts plugin: A/AAAA from /etc/hosts-style entries (a file, re-read when its mtime
// or size changes, and lines inside the block), PTR for their addresses unless no_reverse. A name
// with no entry is SERVFAIL (the plugin has no SOA to say NXDOMAIN with) unless it falls through.

import { statSync, readFileSync } from 'node:fs';
import { argError, type Directive } from '../../corefile/parse.js';
import { addressFromReverse, canonicalIP } from '../../wire/ip.js';
import { CLASS_IN, fqdn, isSubdomain, RCODE, TYPE, type RR } from '../../wire/message.js';
import { reply, type Plugin, type SetupContext } from '../../plugin.js';
import { parseDuration } from '../forward/setup.js';
import { normalizeZone } from '../kubernetes/setup.js';
import { concatHosts, parseHosts, type HostsMap } from './hostsfile.js';

export interface HostsConfig {
  path: string;
  origins: string[];
  inline: string[];
  ttl: number;
  reverse: boolean;
  reloadMs: number;
  /** zones whose misses go to the next plugin; undefined = none */
  fallthrough?: string[];
}

export function parseHostsDirective(d: Directive, serverZones: string[]): HostsConfig {
  const [path = '/etc/hosts', ...zones] = d.args;
  const cfg: HostsConfig = {
    path,
    origins: zones.length ? zones.map((z) => normalizeZone(d, z)) : [...serverZones],
    inline: [],
    ttl: 3600,
    reverse: true,
    reloadMs: 5000,
  };
  for (const o of d.block) {
    switch (o.name) {
      case 'fallthrough':
        cfg.fallthrough = o.args.length ? o.args.map((a) => normalizeZone(o, a)) : ['.'];
        break;
      case 'no_reverse':
        cfg.reverse = false;
        break;
      case 'ttl': {
        if (o.args.length < 1) throw argError(o, 'ttl needs a time in second');
        const ttl = Number(o.args[0]);
        if (!Number.isInteger(ttl)) throw argError(o, 'ttl needs a number of second');
        if (ttl <= 0 || ttl > 65535) throw argError(o, 'ttl provided is invalid');
        cfg.ttl = ttl;
        break;
      }
      case 'reload': {
        const ms = o.args[0] === '0' ? 0 : parseDuration(o.args[0]);
        if (o.args.length !== 1 || ms === undefined) throw argError(o, `invalid duration for reload '${o.args[0] ?? ''}'`);
        cfg.reloadMs = ms;
        break;
      }
      default:
        if (!canonicalIP(o.name.replace(/%.*$/, ''))) throw argError(o, `unknown property '${o.name}'`);
        cfg.inline.push([o.name, ...o.args].join(' '));
    }
  }
  return cfg;
}

/** The file's identity for change detection, or undefined when it cannot be read. */
function fileStamp(path: string): string | undefined {
  try {
    const s = statSync(path);
    return `${s.mtimeMs}:${s.size}`;
  } catch {
    return undefined;
  }
}

export function setupHosts(d: Directive, ctx: SetupContext): Plugin {
  const cfg = parseHostsDirective(d, ctx.zones);
  const inline = parseHosts(cfg.inline.join('\n'), cfg.origins, cfg.reverse);
  let stamp: string | undefined;
  let entries: HostsMap = inline;
  let timer: NodeJS.Timeout | undefined;

  const readFile = (): void => {
    const now = fileStamp(cfg.path);
    if (now === stamp) return;
    stamp = now;
    let text = '';
    try {
      text = readFileSync(cfg.path, 'utf8');
    } catch (e) {
      ctx.log.error(`[WARNING] plugin/hosts: File does not exist: ${cfg.path}${(e as NodeJS.ErrnoException).code === 'ENOENT' ? '' : ` (${(e as Error).message})`}`);
    }
    entries = concatHosts(parseHosts(text, cfg.origins, cfg.reverse), inline);
    ctx.env.metrics.set('coredns_hosts_entries', 'The combined number of entries in hosts and Corefile.', {}, entries.v4.size + entries.v6.size);
  };
  readFile();

  const rr = (name: string, type: number, data: RR['data']): RR => ({ name, type, class: CLASS_IN, ttl: cfg.ttl, data });
  const fallsThrough = (qname: string): boolean => cfg.fallthrough?.some((z) => isSubdomain(qname, z)) ?? false;

  return {
    name: 'hosts',
    async serve(req, next) {
      const qname = req.question.name;
      const key = fqdn(qname.toLowerCase());
      const inZone = cfg.origins.some((z) => isSubdomain(key, z));
      // PTR names need not be inside the plugin's zones
      if (!inZone && req.question.type !== TYPE.PTR) return next(req);
      let answer: RR[] = [];
      if (req.question.type === TYPE.PTR) {
        const ip = addressFromReverse(key);
        const names = ip ? (entries.byAddress.get(ip) ?? []) : [];
        if (names.length === 0) return next(req);
        answer = names.map((n) => rr(qname, TYPE.PTR, { kind: 'name', target: n }));
      } else if (req.question.type === TYPE.A) {
        answer = (entries.v4.get(key) ?? []).map((ip) => rr(qname, TYPE.A, { kind: 'address', ip }));
      } else if (req.question.type === TYPE.AAAA) {
        answer = (entries.v6.get(key) ?? []).map((ip) => rr(qname, TYPE.AAAA, { kind: 'address', ip }));
      }
      const exists = entries.v4.has(key) || entries.v6.has(key);
      if (answer.length === 0 && !exists) {
        if (fallsThrough(key)) return next(req);
        return reply('hosts', RCODE.SERVFAIL);
      }
      return reply('hosts', RCODE.NOERROR, { aa: true, answer });
    },
    start: async () => {
      if (cfg.reloadMs <= 0) return;
      timer = setInterval(readFile, cfg.reloadMs);
      timer.unref();
    },
    stop: async () => clearInterval(timer),
  };
}
