// Reply bytes kept per query shape (see simple-query.ts), so a repeated question costs a copy and
// a few patched bytes instead of a decode, a plugin chain and an encode. What may be kept and for
// how long is the server's decision; this module only stores bytes and replays them faithfully:
// the new query's ID and RD/CD bits, TTLs aged by the whole seconds since storing (when the chain
// has a cache that would age them too), and a fresh order of the answer's address records (when
// the chain would shuffle them, as loadbalance does).

import { TYPE } from './message.js';

/** Record types loadbalance moves behind the others and shuffles. */
const SHUFFLED = new Set<number>([TYPE.A, TYPE.AAAA, TYPE.MX]);

/** Where the parts that change between replays sit in a reply. */
export interface ReplyLayout {
  /** offsets of the TTL field of every RR but OPT, and their values */
  ttlAt: number[];
  ttls: number[];
  /** byte ranges of the answer's shuffled records; they form the end of the answer section */
  shuffled: { start: number; end: number }[];
  /** false when the answer's shuffled records are interleaved with others */
  shuffledAtEnd: boolean;
  /** true when any name uses a compression pointer, so records cannot be moved as bytes */
  compressed: boolean;
}

/** Offsets of the names inside RDATA that our encoder may compress, by type. */
const RDATA_NAMES: Partial<Record<number, (buf: Buffer, at: number) => number[]>> = {
  [TYPE.NS]: (_b, at) => [at],
  [TYPE.CNAME]: (_b, at) => [at],
  [TYPE.PTR]: (_b, at) => [at],
  [TYPE.MX]: (_b, at) => [at + 2],
  [TYPE.SRV]: (_b, at) => [at + 6],
  [TYPE.SOA]: (b, at) => [at, skipName(b, at).end],
};

function skipName(buf: Buffer, pos: number): { end: number; pointer: boolean } {
  for (let guard = 0; guard < 128; guard++) {
    if (pos >= buf.length) break;
    const len = buf[pos]!;
    if (len === 0) return { end: pos + 1, pointer: false };
    if ((len & 0xc0) === 0xc0) return { end: pos + 2, pointer: true };
    pos += 1 + len;
  }
  throw new RangeError('reply name runs past the message');
}

/** Reads the layout of a reply this server encoded; throws on bytes it could not have produced. */
export function replyLayout(buf: Buffer): ReplyLayout {
  const counts = [buf.readUInt16BE(4), buf.readUInt16BE(6), buf.readUInt16BE(8), buf.readUInt16BE(10)];
  const layout: ReplyLayout = { ttlAt: [], ttls: [], shuffled: [], shuffledAtEnd: true, compressed: false };
  let pos = 12;
  for (let i = 0; i < counts[0]!; i++) {
    const n = skipName(buf, pos);
    layout.compressed ||= n.pointer;
    pos = n.end + 4;
  }
  for (let s = 1; s < 4; s++) {
    for (let i = 0; i < counts[s]!; i++) {
      const start = pos;
      const n = skipName(buf, pos);
      layout.compressed ||= n.pointer;
      const type = buf.readUInt16BE(n.end);
      const rdata = n.end + 10;
      const end = rdata + buf.readUInt16BE(n.end + 8);
      if (end > buf.length) throw new RangeError('reply RDATA runs past the message');
      for (const at of RDATA_NAMES[type]?.(buf, rdata) ?? []) layout.compressed ||= skipName(buf, at).pointer;
      if (type !== TYPE.OPT) {
        layout.ttlAt.push(n.end + 4);
        layout.ttls.push(buf.readUInt32BE(n.end + 4));
      }
      if (s === 1 && SHUFFLED.has(type)) layout.shuffled.push({ start, end });
      else if (s === 1 && layout.shuffled.length > 0) layout.shuffledAtEnd = false;
      pos = end;
    }
  }
  return layout;
}

export interface StoredReply<M> {
  bytes: Buffer;
  layout: ReplyLayout;
  storedAt: number;
  /** ms since the epoch after which the entry is no longer served */
  expiresAt: number;
  /** age the TTLs by the seconds since storing */
  aging: boolean;
  /** shuffle the answer's address records on every replay */
  shuffle: boolean;
  /** what the server needs to judge and count a replay */
  meta: M;
}

/**
 * Whether `bytes` can be replayed with the requested treatment: shuffling needs uncompressed
 * records at the end of the answer; aging needs a finite lifetime, taken from the smallest TTL.
 */
export function storable<M>(bytes: Buffer, opts: { aging: boolean; shuffle: boolean; now: number; meta: M }): StoredReply<M> | undefined {
  const layout = replyLayout(bytes);
  const shuffle = opts.shuffle && layout.shuffled.length > 1;
  if (shuffle && (layout.compressed || !layout.shuffledAtEnd)) return undefined;
  const minTtl = layout.ttls.length ? Math.min(...layout.ttls) : 0;
  const expiresAt = opts.aging ? opts.now + Math.max(1, minTtl) * 1000 : Number.POSITIVE_INFINITY;
  return { bytes, layout, storedAt: opts.now, expiresAt, aging: opts.aging, shuffle, meta: opts.meta };
}

/** A fresh copy of a stored reply for `query`: its ID, RD and CD bits, aged TTLs, new order. */
export function replay(e: StoredReply<unknown>, query: Buffer, now: number): Buffer {
  const out = Buffer.allocUnsafe(e.bytes.length);
  e.bytes.copy(out);
  out[0] = query[0]!;
  out[1] = query[1]!;
  out[2] = (out[2]! & ~0x01) | (query[2]! & 0x01);
  out[3] = (out[3]! & ~0x10) | (query[3]! & 0x10);
  const age = e.aging ? Math.floor((now - e.storedAt) / 1000) : 0;
  const { ttlAt, ttls } = e.layout;
  if (age > 0) for (let i = 0; i < ttlAt.length; i++) out.writeUInt32BE(Math.max(0, ttls[i]! - age), ttlAt[i]!);
  if (e.shuffle) {
    const rrs = e.layout.shuffled;
    const order = rrs.map((_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const src = age > 0 ? Buffer.from(out) : e.bytes; // aged TTLs travel with their records
    let at = rrs[0]!.start;
    for (const i of order) at += src.copy(out, at, rrs[i]!.start, rrs[i]!.end);
  }
  return out;
}

/** A bounded map of stored replies; the oldest entry makes room for a new one. */
export class AnswerCache<M> {
  private readonly entries = new Map<string, StoredReply<M>>();

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: string): StoredReply<M> | undefined {
    return this.entries.get(key);
  }

  set(key: string, e: StoredReply<M>): void {
    this.entries.delete(key);
    if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, e);
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}
