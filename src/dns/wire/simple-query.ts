// A fast look at the one query shape clients send almost always: one question in class IN, no
// other records except an option-less OPT of EDNS version 0. Anything else returns undefined and
// takes the full decode path, which also owns every error answer (FORMERR, BADVERS, ...).

import { CLASS_IN, TYPE } from './message.js';

const HEADER = 12;
const MAX_NAME = 255;

export interface SimpleQuery {
  /**
   * What a reply depends on besides the server's data: the question exactly as spelled (name,
   * type, class bytes) and the EDNS size and DO bit, or their absence.
   */
  key: string;
  qtype: number;
  edns: { udpSize: number; do: boolean } | undefined;
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
  let edns: SimpleQuery['edns'];
  let end = qEnd + 4;
  if (arcount === 1) {
    // root owner, type OPT, class = UDP size, TTL = ext-rcode|version|flags, RDLENGTH 0
    if (end + 11 !== buf.length || buf[end] !== 0 || buf.readUInt16BE(end + 1) !== TYPE.OPT) return undefined;
    if (buf[end + 6] !== 0 || buf.readUInt16BE(end + 9) !== 0) return undefined;
    edns = { udpSize: buf.readUInt16BE(end + 3), do: (buf[end + 7]! & 0x80) !== 0 };
    end += 11;
  }
  if (end !== buf.length) return undefined;
  const ednsPart = edns ? `|${edns.udpSize}|${edns.do ? 1 : 0}` : '|-';
  return { key: buf.toString('latin1', HEADER, qEnd + 4) + ednsPart, qtype: buf.readUInt16BE(qEnd), edns };
}
