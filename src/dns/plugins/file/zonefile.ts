// A minimal zone-file reader for the file plugin: one RR per line, `owner [TTL] [IN] TYPE rdata`,
// with `@`, relative owners, `$ORIGIN`, `$TTL` and `;` comments. No parentheses or multi-line RRs.

import { CLASS_IN, typeFromName, TYPE, type RR } from '../../wire/message.js';
import { canonicalIP } from '../../wire/ip.js';

export class ZoneFileError extends Error {}

function absolute(name: string, origin: string): string {
  if (name === '@') return origin;
  if (name.endsWith('.')) return name;
  return origin === '.' ? `${name}.` : `${name}.${origin}`;
}

export function parseZoneFile(text: string, zone: string): RR[] {
  let origin = zone;
  let defaultTtl = 3600;
  let lastOwner = zone;
  const out: RR[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/;.*$/, '');
    if (line.trim() === '') return;
    const fail = (why: string): never => {
      throw new ZoneFileError(`line ${i + 1}: ${why}`);
    };
    const words = line.trim().match(/"[^"]*"|\S+/g) ?? [];
    if (words[0] === '$ORIGIN') return void (origin = absolute(words[1] ?? fail('$ORIGIN needs a name'), origin));
    if (words[0] === '$TTL') return void (defaultTtl = Number(words[1]));
    let owner = lastOwner;
    if (!/^\s/.test(line)) owner = absolute(words.shift()!, origin);
    lastOwner = owner;
    let ttl = defaultTtl;
    if (/^\d+$/.test(words[0] ?? '')) ttl = Number(words.shift());
    if (words[0]?.toUpperCase() === 'IN') words.shift();
    const type = typeFromName(words.shift() ?? '') ?? fail('unknown type');
    const a = words;
    const name = (x: string | undefined): string => absolute(x ?? fail('missing name'), origin);
    let data: RR['data'];
    switch (type) {
      case TYPE.A:
      case TYPE.AAAA:
        data = { kind: 'address', ip: canonicalIP(a[0] ?? '') ?? fail(`bad address '${a[0]}'`) };
        break;
      case TYPE.NS:
      case TYPE.CNAME:
      case TYPE.PTR:
        data = { kind: 'name', target: name(a[0]) };
        break;
      case TYPE.SOA:
        data = { kind: 'soa', mname: name(a[0]), rname: name(a[1]), serial: +a[2]!, refresh: +a[3]!, retry: +a[4]!, expire: +a[5]!, minimum: +a[6]! };
        break;
      case TYPE.SRV:
        data = { kind: 'srv', priority: +a[0]!, weight: +a[1]!, port: +a[2]!, target: name(a[3]) };
        break;
      case TYPE.MX:
        data = { kind: 'mx', preference: +a[0]!, exchange: name(a[1]) };
        break;
      case TYPE.TXT:
        data = { kind: 'txt', texts: a.map((t) => t.replace(/^"|"$/g, '')) };
        break;
      default:
        return fail(`type ${type} is not supported`);
    }
    out.push({ name: owner, type, class: CLASS_IN, ttl, data });
  });
  return out;
}
