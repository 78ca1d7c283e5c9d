// A fast look at the one query shape clients send almost always: one question in class IN, no
// other records except an option-less OPT of EDNS version 0. Anything else returns undefined and
// takes the full decode path, which also owns every error answer (FORMERR, BADVERS, ...).

import { CLASS_IN, TYPE } from './message.js';

const HEADER = 12;
const MAX_NAME = 255;

export interface SimpleQuery {
  /**
   * What a reply depends on besides the server's data: every byte after the header, i.e. the
   * question exactly as spelled (name, type, class) and the OPT record with its UDP size and DO
   * bit, or its absence. One string made by one native call, so a repeated query builds nothing else.
   */
  key: string;
  qtype: number;
  /** EDNS DO bit */
  do: boolean;
}

/** Offset just past the uncompressed name at `pos`, or -1 for a pointer, a bad label or overrun. */
function nameEnd(buf: Buffer, pos: number): number {
  const start = pos;
  for (;;) {
    if (pos >= buf.length) return -1;
    const len = buf[pos]!;
    if (len === 0) return pos + 1 - start > MAX_NAME ? -1 : pos + 1;
    if (len > 63) return -1;
    pos += 1 + len;
  }
}

export function readSimpleQuery(buf: Buffer): SimpleQuery | undefined {
  if (buf.length < HEADER + 5) return undefined;
  if ((buf[2]! & 0xf8) !== 0) return undefined; // QR set or an opcode other than QUERY
  if (buf.readUInt16BE(4) !== 1 || buf.readUInt16BE(6) !== 0 || buf.readUInt16BE(8) !== 0) return undefined;
  const arcount = buf.readUInt16BE(10);
  if (arcount > 1) return undefined;
  const qEnd = nameEnd(buf, HEADER);
  if (qEnd < 0 || qEnd + 4 > buf.length) return undefined;
  if (buf.readUInt16BE(qEnd + 2) !== CLASS_IN) return undefined;
  let doBit = false;
  let end = qEnd + 4;
  if (arcount === 1) {
    // root owner, type OPT, class = UDP size, TTL = ext-rcode|version|flags, RDLENGTH 0
    if (end + 11 !== buf.length || buf[end] !== 0 || buf.readUInt16BE(end + 1) !== TYPE.OPT) return undefined;
    if (buf[end + 6] !== 0 || buf.readUInt16BE(end + 9) !== 0) return undefined;
    doBit = (buf[end + 7]! & 0x80) !== 0;
    end += 11;
  }
  if (end !== buf.length) return undefined;
  return { key: buf.toString('latin1', HEADER, end), qtype: buf.readUInt16BE(qEnd), do: doBit };
}
