// IPv4 addresses as unsigned 32-bit numbers: the arithmetic host-local needs (next address, network,
// broadcast, containment) without a library. kemu's Pod network is IPv4-only.

export interface Prefix {
  /** The address as written (may have host bits set). */
  ip: number;
  length: number;
}

export function parseIPv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    value = value * 256 + n;
  }
  return value;
}

export function formatIPv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}

export function parsePrefix(text: string): Prefix | undefined {
  const [addr, len, extra] = text.split('/');
  if (addr === undefined || len === undefined || extra !== undefined || !/^\d{1,2}$/.test(len)) return undefined;
  const ip = parseIPv4(addr);
  const length = Number(len);
  if (ip === undefined || length > 32) return undefined;
  return { ip, length };
}

export function maskOf(length: number): number {
  return length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0;
}

export function networkOf(p: Prefix): number {
  return (p.ip & maskOf(p.length)) >>> 0;
}

export function broadcastOf(p: Prefix): number {
  return (networkOf(p) | ~maskOf(p.length)) >>> 0;
}

export function contains(p: Prefix, ip: number): boolean {
  return ((ip & maskOf(p.length)) >>> 0) === networkOf(p);
}

export function formatPrefix(ip: number, length: number): string {
  return `${formatIPv4(ip)}/${length}`;
}
