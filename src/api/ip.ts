// Address arithmetic used across components: IP and CIDR text <-> values, containment, wire bytes.
// Parsing is "sloppy" as Kubernetes's ParseIPSloppy for legacy data: IPv4 octets with leading
// zeros are decimal (172.30.0.041 is 172.30.0.41, never octal) and surrounding whitespace is
// tolerated; a caller that must be strict (Go's net.ParseIP) checks with node:net first. Output
// uses the canonical forms Go's net.IP prints (dotted quad; RFC 5952 compressed lower-case IPv6).
// Octets and groups are plain numbers, so the byte conversions stay off bigint.

export type IPFamily = 'IPv4' | 'IPv6';

export interface ParsedIP {
  family: IPFamily;
  value: bigint;
}

export interface ParsedCIDR {
  family: IPFamily;
  network: bigint;
  prefix: number;
}

const BITS: Record<IPFamily, number> = { IPv4: 32, IPv6: 128 };

function ipv4Octets(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const octets: number[] = [];
  for (const part of parts) {
    if (!/^[0-9]{1,3}$/.test(part)) return undefined;
    const octet = Number.parseInt(part, 10);
    if (octet > 255) return undefined;
    octets.push(octet);
  }
  return octets;
}

/** The eight 16-bit groups of an IPv6 address (an IPv4 tail such as ::ffff:1.2.3.4 gives the last two). */
function ipv6Groups(text: string): number[] | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(text)) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groupsOf = (s: string): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    const pieces = s.split(':');
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i]!;
      if (i === pieces.length - 1 && piece.includes('.')) {
        const v4 = ipv4Octets(piece);
        if (v4 === undefined) return undefined;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(piece)) return undefined;
        out.push(Number.parseInt(piece, 16));
      }
    }
    return out;
  };
  const head = groupsOf(halves[0]!);
  const tail = halves.length === 2 ? groupsOf(halves[1]!) : [];
  if (head === undefined || tail === undefined) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  return [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
}

/** RFC 5952: lower-case hex, the longest run (length >= 2) of zero groups as '::', the first on a tie. */
function formatIPv6Groups(groups: readonly number[]): string {
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** Parses an IPv4 or IPv6 address (surrounding whitespace allowed); undefined when invalid. */
export function parseIP(text: string): ParsedIP | undefined {
  const trimmed = text.trim();
  const v6 = trimmed.includes(':');
  const parts = v6 ? ipv6Groups(trimmed) : ipv4Octets(trimmed);
  if (parts === undefined) return undefined;
  const width = v6 ? 16n : 8n;
  return { family: v6 ? 'IPv6' : 'IPv4', value: parts.reduce((acc, p) => (acc << width) | BigInt(p), 0n) };
}

export function formatIP(ip: ParsedIP): string {
  if (ip.family === 'IPv4') {
    return [24n, 16n, 8n, 0n].map((shift) => String((ip.value >> shift) & 0xffn)).join('.');
  }
  const groups = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((ip.value >> BigInt(i * 16)) & 0xffffn));
  return formatIPv6Groups(groups);
}

/** The canonical text of an address, or undefined when it is not one. */
export function canonicalIP(text: string): string | undefined {
  const ip = parseIP(text);
  return ip === undefined ? undefined : formatIP(ip);
}

/** An address as it goes on the wire: 4 bytes for IPv4, 16 for IPv6; undefined when invalid. */
export function ipToBytes(text: string): Buffer | undefined {
  const trimmed = text.trim();
  if (!trimmed.includes(':')) {
    const octets = ipv4Octets(trimmed);
    return octets && Buffer.from(octets);
  }
  const groups = ipv6Groups(trimmed);
  if (groups === undefined) return undefined;
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  return out;
}

/** The canonical text of 4 or 16 address bytes. */
export function ipFromBytes(bytes: Uint8Array): string {
  if (bytes.length === 4) return bytes.join('.');
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  return formatIPv6Groups(groups);
}

export function parseCIDR(text: string): ParsedCIDR | undefined {
  const [addr, prefixText, ...rest] = text.trim().split('/');
  if (addr === undefined || prefixText === undefined || rest.length > 0 || !/^[0-9]{1,3}$/.test(prefixText)) return undefined;
  const ip = parseIP(addr);
  const prefix = Number.parseInt(prefixText, 10);
  if (ip === undefined || prefix > BITS[ip.family]) return undefined;
  return { family: ip.family, network: ip.value & prefixMask(ip.family, prefix), prefix };
}

function prefixMask(family: IPFamily, prefix: number): bigint {
  const bits = BigInt(BITS[family]);
  const all = (1n << bits) - 1n;
  return (all << (bits - BigInt(prefix))) & all;
}

export function formatCIDR(cidr: ParsedCIDR): string {
  return `${formatIP({ family: cidr.family, value: cidr.network })}/${cidr.prefix}`;
}

export function cidrContains(cidr: ParsedCIDR, ip: ParsedIP): boolean {
  return cidr.family === ip.family && (ip.value & prefixMask(cidr.family, cidr.prefix)) === cidr.network;
}

export function isLoopback(ip: ParsedIP): boolean {
  return ip.family === 'IPv4' ? ip.value >> 24n === 127n : ip.value === 1n;
}

/** "ip:port", with IPv6 in brackets, as Go's net.JoinHostPort writes it. */
export function joinHostPort(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** Splits "ip:port" / "[ip]:port"; undefined when the text has no port. */
export function splitHostPort(text: string): { host: string; port: number } | undefined {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  return m === null ? undefined : { host: m[1]!, port: Number(m[2]) };
}
