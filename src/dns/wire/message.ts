// DNS message model (RFC 1035 + EDNS0, RFC 6891) shared by the codec, the plugins and the server.
// Names are kept in presentation form with a trailing dot and in the spelling they arrived in:
// CoreDNS copies the question's case into answers, so nothing here lower-cases a name.

export const TYPE = {
  A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, HINFO: 13, MX: 15, TXT: 16, AAAA: 28, SRV: 33, OPT: 41, IXFR: 251, AXFR: 252, ANY: 255,
} as const;

export const CLASS_IN = 1;

export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5, BADVERS: 16 } as const;

export type RData =
  | { kind: 'address'; ip: string }
  | { kind: 'name'; target: string }
  | { kind: 'soa'; mname: string; rname: string; serial: number; refresh: number; retry: number; expire: number; minimum: number }
  | { kind: 'srv'; priority: number; weight: number; port: number; target: string }
  | { kind: 'mx'; preference: number; exchange: string }
  | { kind: 'txt'; texts: string[] }
  | { kind: 'raw'; bytes: Buffer };

export interface RR {
  name: string;
  type: number;
  class: number;
  ttl: number;
  data: RData;
}

export interface Question {
  name: string;
  type: number;
  class: number;
}

export interface EdnsOption {
  code: number;
  data: Buffer;
}

export interface Edns {
  udpSize: number;
  /** upper 8 bits of the 12-bit extended rcode */
  extRcode: number;
  version: number;
  do: boolean;
  options: EdnsOption[];
}

export interface Flags {
  qr: boolean;
  opcode: number;
  aa: boolean;
  tc: boolean;
  rd: boolean;
  ra: boolean;
  ad: boolean;
  cd: boolean;
}

export interface Message {
  id: number;
  flags: Flags;
  /** the full rcode; values above 15 travel partly in the OPT record */
  rcode: number;
  question: Question[];
  answer: RR[];
  authority: RR[];
  /** without the OPT pseudo-RR, which lives in `edns` */
  additional: RR[];
  edns?: Edns;
}

export function emptyFlags(): Flags {
  return { qr: false, opcode: 0, aa: false, tc: false, rd: false, ra: false, ad: false, cd: false };
}

const TYPE_NAMES = new Map<number, string>(Object.entries(TYPE).map(([k, v]) => [v, k]));

export function typeName(t: number): string {
  return TYPE_NAMES.get(t) ?? `TYPE${t}`;
}

export function typeFromName(name: string): number | undefined {
  const upper = name.toUpperCase();
  if (upper in TYPE) return TYPE[upper as keyof typeof TYPE];
  const m = /^TYPE(\d+)$/.exec(upper);
  return m ? Number(m[1]) : undefined;
}

const RCODE_NAMES = new Map<number, string>(Object.entries(RCODE).map(([k, v]) => [v, k]));

export function rcodeName(r: number): string {
  return RCODE_NAMES.get(r) ?? `RCODE${r}`;
}

/** Absolute form of a name: exactly one trailing dot; the root is '.'. */
export function fqdn(name: string): string {
  if (name === '' || name === '.') return '.';
  return name.endsWith('.') ? name : `${name}.`;
}

/** True when `name` equals `zone` or lies below it, ignoring case (both absolute). */
export function isSubdomain(name: string, zone: string): boolean {
  const n = name.toLowerCase();
  const z = zone.toLowerCase();
  if (z === '.') return true;
  return n === z || n.endsWith(`.${z}`);
}

/** The RR in zone-file presentation form with single spaces, as the conformance cases write it. */
export function formatRR(rr: RR): string {
  return `${rr.name} ${rr.ttl} IN ${typeName(rr.type)} ${formatRData(rr.data)}`;
}

export function formatRData(d: RData): string {
  switch (d.kind) {
    case 'address':
      return d.ip;
    case 'name':
      return d.target;
    case 'soa':
      return `${d.mname} ${d.rname} ${d.serial} ${d.refresh} ${d.retry} ${d.expire} ${d.minimum}`;
    case 'srv':
      return `${d.priority} ${d.weight} ${d.port} ${d.target}`;
    case 'mx':
      return `${d.preference} ${d.exchange}`;
    case 'txt':
      return d.texts.map((t) => JSON.stringify(t)).join(' ');
    case 'raw':
      return `\\# ${d.bytes.length} ${d.bytes.toString('hex')}`;
  }
}
