// Wire format codec: decode any message (names decompressed, case kept), encode with or without
// name compression. Compression is case-sensitive on purpose: a pointer to a differently spelled
// suffix would change the spelling the client sees.

import { ipFromBytes, ipToBytes } from '../../api/ip.js';
import { TYPE, type Edns, type Flags, type Message, type Question, type RData, type RR } from './message.js';

export class WireError extends Error {}

const MAX_POINTER_HOPS = 64;

class Reader {
  constructor(
    readonly buf: Buffer,
    public pos = 0,
  ) {}

  need(n: number): void {
    if (this.pos + n > this.buf.length) throw new WireError('message truncated');
  }
  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }
  u16(): number {
    this.need(2);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  bytes(n: number): Buffer {
    this.need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  name(): string {
    const labels: string[] = [];
    let pos = this.pos;
    let jumped = false;
    for (let hops = 0; ; ) {
      if (pos >= this.buf.length) throw new WireError('name runs past the message');
      const len = this.buf[pos]!;
      if (len === 0) {
        pos += 1;
        break;
      }
      if ((len & 0xc0) === 0xc0) {
        if (pos + 1 >= this.buf.length) throw new WireError('bad compression pointer');
        if (++hops > MAX_POINTER_HOPS) throw new WireError('compression pointer loop');
        const target = ((len & 0x3f) << 8) | this.buf[pos + 1]!;
        if (!jumped) this.pos = pos + 2;
        jumped = true;
        pos = target;
        continue;
      }
      if (len > 63) throw new WireError('bad label length');
      if (pos + 1 + len > this.buf.length) throw new WireError('label runs past the message');
      labels.push(escapeLabel(this.buf.subarray(pos + 1, pos + 1 + len)));
      pos += 1 + len;
    }
    if (!jumped) this.pos = pos;
    return labels.length === 0 ? '.' : `${labels.join('.')}.`;
  }
}

function escapeLabel(b: Buffer): string {
  let s = '';
  for (const c of b) {
    if (c === 0x2e || c === 0x5c) s += `\\${String.fromCharCode(c)}`;
    else if (c < 0x21 || c > 0x7e) s += `\\${c.toString().padStart(3, '0')}`;
    else s += String.fromCharCode(c);
  }
  return s;
}

function splitLabels(name: string): Buffer[] {
  if (name === '.' || name === '') return [];
  const labels: Buffer[] = [];
  let cur: number[] = [];
  for (let i = 0; i < name.length; i++) {
    const ch = name.charCodeAt(i);
    if (ch === 0x5c && i + 1 < name.length) {
      const dec = /^\d{3}/.exec(name.slice(i + 1, i + 4));
      if (dec) {
        cur.push(Number(dec[0]));
        i += 3;
      } else {
        cur.push(name.charCodeAt(++i));
      }
    } else if (ch === 0x2e) {
      labels.push(Buffer.from(cur));
      cur = [];
    } else cur.push(ch);
  }
  if (cur.length > 0) labels.push(Buffer.from(cur));
  return labels;
}

function decodeFlags(v: number): { flags: Flags; rcode: number } {
  return {
    flags: {
      qr: (v & 0x8000) !== 0,
      opcode: (v >> 11) & 0xf,
      aa: (v & 0x0400) !== 0,
      tc: (v & 0x0200) !== 0,
      rd: (v & 0x0100) !== 0,
      ra: (v & 0x0080) !== 0,
      ad: (v & 0x0020) !== 0,
      cd: (v & 0x0010) !== 0,
    },
    rcode: v & 0xf,
  };
}

function decodeRData(r: Reader, type: number, len: number): RData {
  const end = r.pos + len;
  r.need(len);
  let d: RData;
  switch (type) {
    case TYPE.A:
      d = len === 4 ? { kind: 'address', ip: ipFromBytes(r.bytes(4)) } : { kind: 'raw', bytes: Buffer.from(r.bytes(len)) };
      break;
    case TYPE.AAAA:
      d = len === 16 ? { kind: 'address', ip: ipFromBytes(r.bytes(16)) } : { kind: 'raw', bytes: Buffer.from(r.bytes(len)) };
      break;
    case TYPE.NS:
    case TYPE.CNAME:
    case TYPE.PTR:
      d = { kind: 'name', target: r.name() };
      break;
    case TYPE.SOA:
      d = { kind: 'soa', mname: r.name(), rname: r.name(), serial: r.u32(), refresh: r.u32(), retry: r.u32(), expire: r.u32(), minimum: r.u32() };
      break;
    case TYPE.SRV:
      d = { kind: 'srv', priority: r.u16(), weight: r.u16(), port: r.u16(), target: r.name() };
      break;
    case TYPE.MX:
      d = { kind: 'mx', preference: r.u16(), exchange: r.name() };
      break;
    case TYPE.TXT: {
      const texts: string[] = [];
      while (r.pos < end) texts.push(r.bytes(r.u8()).toString('latin1'));
      d = { kind: 'txt', texts };
      break;
    }
    default:
      d = { kind: 'raw', bytes: Buffer.from(r.bytes(len)) };
  }
  if (r.pos !== end) throw new WireError(`bad rdata length for type ${type}`);
  return d;
}

interface RawRR extends RR {
  /** set for OPT: the rdata bytes, undecoded */
  optBytes?: Buffer;
}

function decodeRR(r: Reader): RawRR {
  const name = r.name();
  const type = r.u16();
  const klass = r.u16();
  const ttl = r.u32();
  const len = r.u16();
  if (type === TYPE.OPT) {
    const bytes = Buffer.from(r.bytes(len));
    return { name, type, class: klass, ttl, data: { kind: 'raw', bytes }, optBytes: bytes };
  }
  return { name, type, class: klass, ttl, data: decodeRData(r, type, len) };
}

function decodeEdns(rr: RawRR): Edns {
  const options = [];
  const b = rr.optBytes ?? Buffer.alloc(0);
  for (let i = 0; i + 4 <= b.length; ) {
    const code = b.readUInt16BE(i);
    const len = b.readUInt16BE(i + 2);
    options.push({ code, data: Buffer.from(b.subarray(i + 4, i + 4 + len)) });
    i += 4 + len;
  }
  return { udpSize: rr.class, extRcode: rr.ttl >>> 24, version: (rr.ttl >>> 16) & 0xff, do: (rr.ttl & 0x8000) !== 0, options };
}

/** Parses a whole message; throws WireError on malformed input. */
export function decodeMessage(buf: Buffer): Message {
  const r = new Reader(buf);
  const id = r.u16();
  const { flags, rcode } = decodeFlags(r.u16());
  const counts = [r.u16(), r.u16(), r.u16(), r.u16()] as const;
  const question: Question[] = [];
  for (let i = 0; i < counts[0]; i++) question.push({ name: r.name(), type: r.u16(), class: r.u16() });
  const sections: RawRR[][] = [[], [], []];
  for (let s = 0; s < 3; s++) for (let i = 0; i < counts[s + 1]!; i++) sections[s]!.push(decodeRR(r));
  const opt = sections[2]!.find((rr) => rr.type === TYPE.OPT);
  const edns = opt ? decodeEdns(opt) : undefined;
  const strip = (rrs: RawRR[]): RR[] => rrs.filter((rr) => rr.type !== TYPE.OPT).map(({ optBytes: _o, ...rr }) => rr);
  return {
    id,
    flags,
    rcode: rcode | ((edns?.extRcode ?? 0) << 4),
    question,
    answer: strip(sections[0]!),
    authority: strip(sections[1]!),
    additional: strip(sections[2]!),
    ...(edns ? { edns } : {}),
  };
}

/** A growable output buffer with optional, case-sensitive name compression and rollback. */
export class Writer {
  private buf = Buffer.alloc(512);
  pos = 0;
  private readonly pointers = new Map<string, number>();

  constructor(private readonly compress: boolean) {}

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }
  u16(v: number): void {
    this.ensure(2);
    this.buf.writeUInt16BE(v & 0xffff, this.pos);
    this.pos += 2;
  }
  u32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32BE(v >>> 0, this.pos);
    this.pos += 4;
  }
  bytes(b: Buffer): void {
    this.ensure(b.length);
    b.copy(this.buf, this.pos);
    this.pos += b.length;
  }
  setU16(at: number, v: number): void {
    this.buf.writeUInt16BE(v, at);
  }

  name(name: string, compressible = true): void {
    const labels = splitLabels(name);
    for (let i = 0; i < labels.length; i++) {
      const suffix = labels.slice(i).map((l) => l.toString('latin1')).join('.');
      if (this.compress && compressible) {
        const at = this.pointers.get(suffix);
        if (at !== undefined) {
          this.u16(0xc000 | at);
          return;
        }
        if (this.pos < 0x3fff) this.pointers.set(suffix, this.pos);
      }
      const l = labels[i]!;
      this.u8(l.length);
      this.bytes(l);
    }
    this.u8(0);
  }

  /** Forget everything written from `at` on, compression targets included. */
  rollback(at: number): void {
    this.pos = at;
    for (const [k, v] of this.pointers) if (v >= at) this.pointers.delete(k);
  }

  result(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }
}

function encodeRData(w: Writer, d: RData, type: number): void {
  switch (d.kind) {
    case 'address': {
      const bytes = ipToBytes(d.ip);
      if (bytes?.length !== (type === TYPE.AAAA ? 16 : 4)) throw new WireError(`address ${JSON.stringify(d.ip)} does not fit a type ${type} record`);
      w.bytes(bytes);
      return;
    }
    case 'name':
      w.name(d.target);
      return;
    case 'soa':
      w.name(d.mname);
      w.name(d.rname);
      for (const v of [d.serial, d.refresh, d.retry, d.expire, d.minimum]) w.u32(v);
      return;
    case 'srv':
      w.u16(d.priority);
      w.u16(d.weight);
      w.u16(d.port);
      w.name(d.target, false); // RFC 2782: the SRV target is never compressed
      return;
    case 'mx':
      w.u16(d.preference);
      w.name(d.exchange);
      return;
    case 'txt':
      for (const t of d.texts) {
        const b = Buffer.from(t, 'latin1');
        w.u8(b.length);
        w.bytes(b);
      }
      return;
    case 'raw':
      w.bytes(d.bytes);
  }
}

export function encodeRR(w: Writer, rr: RR): void {
  w.name(rr.name);
  w.u16(rr.type);
  w.u16(rr.class);
  w.u32(rr.ttl);
  const lenAt = w.pos;
  w.u16(0);
  encodeRData(w, rr.data, rr.type);
  w.setU16(lenAt, w.pos - lenAt - 2);
}

export function optRR(edns: Edns): RR {
  const parts = edns.options.map((o) => {
    const h = Buffer.alloc(4);
    h.writeUInt16BE(o.code, 0);
    h.writeUInt16BE(o.data.length, 2);
    return Buffer.concat([h, o.data]);
  });
  const ttl = ((edns.extRcode & 0xff) << 24) | ((edns.version & 0xff) << 16) | (edns.do ? 0x8000 : 0);
  return { name: '.', type: TYPE.OPT, class: edns.udpSize, ttl: ttl >>> 0, data: { kind: 'raw', bytes: Buffer.concat(parts) } };
}

function flagsWord(m: Message): number {
  const f = m.flags;
  return (
    (f.qr ? 0x8000 : 0) |
    ((f.opcode & 0xf) << 11) |
    (f.aa ? 0x0400 : 0) |
    (f.tc ? 0x0200 : 0) |
    (f.rd ? 0x0100 : 0) |
    (f.ra ? 0x0080 : 0) |
    (f.ad ? 0x0020 : 0) |
    (f.cd ? 0x0010 : 0) |
    (m.rcode & 0xf)
  );
}

function withExtRcode(m: Message): Edns | undefined {
  return m.edns ? { ...m.edns, extRcode: m.rcode >> 4 } : undefined;
}

function writeHeaderAndQuestion(w: Writer, m: Message, counts: [number, number, number]): void {
  w.u16(m.id);
  w.u16(flagsWord(m));
  w.u16(m.question.length);
  w.u16(counts[0]);
  w.u16(counts[1]);
  w.u16(counts[2]);
  for (const q of m.question) {
    w.name(q.name);
    w.u16(q.type);
    w.u16(q.class);
  }
}

export function encodeMessage(m: Message, compress = false): Buffer {
  const w = new Writer(compress);
  const edns = withExtRcode(m);
  writeHeaderAndQuestion(w, m, [m.answer.length, m.authority.length, m.additional.length + (edns ? 1 : 0)]);
  for (const rr of m.answer) encodeRR(w, rr);
  for (const rr of m.authority) encodeRR(w, rr);
  for (const rr of m.additional) encodeRR(w, rr);
  if (edns) encodeRR(w, optRR(edns));
  return w.result();
}

/**
 * Encodes a reply within `limit` bytes the way miekg/dns Msg.Truncate does for CoreDNS: a reply
 * that fits goes out uncompressed; otherwise it is compressed and keeps as many whole RRs as fit
 * (answer, then authority, then additional), with the OPT record always kept and TC set when
 * anything was dropped.
 */
export function encodeWithin(m: Message, limit: number): Buffer {
  const plain = encodeMessage(m);
  if (plain.length <= limit) return plain;
  const compressed = encodeMessage(m, true);
  if (compressed.length <= limit) return compressed;
  const edns = withExtRcode(m);
  const optLen = edns ? 11 + edns.options.reduce((n, o) => n + 4 + o.data.length, 0) : 0;
  const w = new Writer(true);
  writeHeaderAndQuestion(w, m, [0, 0, 0]);
  const kept: [number, number, number] = [0, 0, 0];
  const sections = [m.answer, m.authority, m.additional];
  let full = false;
  for (let s = 0; s < 3 && !full; s++) {
    for (const rr of sections[s]!) {
      const at = w.pos;
      encodeRR(w, rr);
      if (w.pos + optLen > limit) {
        w.rollback(at);
        full = true;
        break;
      }
      kept[s]!++;
    }
  }
  if (edns) encodeRR(w, optRR(edns));
  const out = w.result();
  out.writeUInt16BE(kept[0], 6);
  out.writeUInt16BE(kept[1], 8);
  out.writeUInt16BE(kept[2] + (edns ? 1 : 0), 10);
  out.writeUInt16BE(out.readUInt16BE(2) | 0x0200, 2); // TC
  return out;
}

