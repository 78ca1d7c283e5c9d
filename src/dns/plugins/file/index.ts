// file DBFILE [ZONES...]: serves a static zone authoritatively, as CoreDNS's file plugin: exact
// names, CNAMEs followed inside the zone, `*` wildcards, the zone's NS set in the authority of
// positive answers, NODATA/NXDOMAIN with the SOA.

import { readFileSync } from 'node:fs';
import { argError, type Directive } from '../../corefile/parse.js';
import { isSubdomain, RCODE, TYPE, type RR } from '../../wire/message.js';
import { reply, type Plugin, type SetupContext } from '../../plugin.js';
import { normalizeZone } from '../kubernetes/setup.js';
import { parseZoneFile } from './zonefile.js';

const MAX_CNAME_CHAIN = 8;

class Zone {
  private readonly byName = new Map<string, RR[]>();

  constructor(
    readonly origin: string,
    rrs: RR[],
  ) {
    for (const rr of rrs) {
      const k = rr.name.toLowerCase();
      this.byName.set(k, [...(this.byName.get(k) ?? []), rr]);
    }
  }

  private at(name: string): RR[] | undefined {
    const exact = this.byName.get(name.toLowerCase());
    if (exact) return exact.map((r) => ({ ...r, name }));
    const lower = name.toLowerCase();
    const nonTerminal = [...this.byName.keys()].some((k) => k.endsWith(`.${lower}`));
    if (nonTerminal) return [];
    // the closest enclosing wildcard
    const labels = lower.split('.');
    for (let i = 1; i < labels.length - 1; i++) {
      const wild = this.byName.get(`*.${labels.slice(i).join('.')}`);
      if (wild) return wild.map((r) => ({ ...r, name }));
    }
    return undefined;
  }

  apex(type: number): RR[] {
    return this.byName.get(this.origin.toLowerCase())?.filter((r) => r.type === type) ?? [];
  }

  lookup(qname: string, qtype: number): { rcode: number; answer: RR[]; authority: RR[] } {
    const answer: RR[] = [];
    let name = qname;
    for (let hops = 0; hops < MAX_CNAME_CHAIN; hops++) {
      const rrs = this.at(name);
      if (rrs === undefined) return { rcode: answer.length ? RCODE.NOERROR : RCODE.NXDOMAIN, answer, authority: this.apex(TYPE.SOA) };
      const hits = rrs.filter((r) => r.type === qtype);
      const cname = rrs.find((r) => r.type === TYPE.CNAME);
      if (hits.length === 0 && cname && qtype !== TYPE.CNAME && cname.data.kind === 'name') {
        answer.push(cname);
        if (!isSubdomain(cname.data.target, this.origin)) break;
        name = cname.data.target;
        continue;
      }
      answer.push(...hits);
      break;
    }
    if (answer.length === 0) return { rcode: RCODE.NOERROR, answer, authority: this.apex(TYPE.SOA) };
    return { rcode: RCODE.NOERROR, answer, authority: qtype === TYPE.NS && isSubdomain(this.origin, qname) ? [] : this.apex(TYPE.NS) };
  }
}

export function setupFile(d: Directive, ctx: SetupContext): Plugin {
  const [file, ...zoneArgs] = d.args;
  if (!file) throw argError(d, 'file needs a zone file');
  const origins = zoneArgs.length ? zoneArgs.map((z) => normalizeZone(d, z)) : ctx.zones;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw argError(d, `cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const zones = origins.map((o) => new Zone(o, parseZoneFile(text, o)));
  return {
    name: 'file',
    async serve(req, next) {
      const qname = req.question.name;
      const zone = zones.filter((z) => isSubdomain(qname, z.origin)).sort((a, b) => b.origin.length - a.origin.length)[0];
      if (!zone) return next(req);
      const r = zone.lookup(qname, req.question.type);
      return reply('file', r.rcode, { aa: true, answer: r.answer, authority: r.authority });
    },
  };
}
