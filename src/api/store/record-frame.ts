// The on-disk framing shared by the write-ahead log and snapshots: every record is
//   u32 LE payload length | u32 LE CRC-32 of the payload | payload (UTF-8 JSON)
// so a record torn by a crash (short, or with bytes that never reached the disk) fails its length
// or checksum and is recognised instead of being half-applied.

import { crc32 } from 'node:zlib';

const HEADER_BYTES = 8;
/** Larger lengths can only come from garbage; refusing them keeps a bad header from allocating GBs. */
const MAX_PAYLOAD_BYTES = 256 * 1024 * 1024;

export function encodeFrame(payload: string): Buffer {
  const body = Buffer.from(payload, 'utf8');
  const frame = Buffer.allocUnsafe(HEADER_BYTES + body.length);
  frame.writeUInt32LE(body.length, 0);
  frame.writeUInt32LE(crc32(body), 4);
  body.copy(frame, HEADER_BYTES);
  return frame;
}

export interface DecodedFrames {
  /** Payloads of the intact records, in file order. */
  payloads: string[];
  /** Byte length of the intact prefix; anything after it is a torn or garbage tail. */
  validLength: number;
}

/** Decodes records from the start of buf and stops at the first one that is incomplete or corrupt. */
export function decodeFrames(buf: Buffer): DecodedFrames {
  const payloads: string[] = [];
  let offset = 0;
  while (offset + HEADER_BYTES <= buf.length) {
    const length = buf.readUInt32LE(offset);
    const end = offset + HEADER_BYTES + length;
    if (length > MAX_PAYLOAD_BYTES || end > buf.length) break;
    const body = buf.subarray(offset + HEADER_BYTES, end);
    if (crc32(body) !== buf.readUInt32LE(offset + 4)) break;
    payloads.push(body.toString('utf8'));
    offset = end;
  }
  return { payloads, validLength: offset };
}
