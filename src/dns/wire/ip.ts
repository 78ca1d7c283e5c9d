// IP text <-> bytes for A/AAAA rdata and reverse names. IPv6 text is the RFC 5952 canonical form
// (lower case, longest zero run as '::'), which is what dig and Go's net.IP print.

import { isIPv4, isIPv6 } from 'node:net';

export function ipv4ToBytes(ip: string): Buffer {
  return Buffer.from(ip.split('.').map(Number));
}

export function ipv6ToBytes(ip: string): Buffer {
  let text = ip;
  const out = Buffer.alloc(16);
  // an embedded IPv4 tail (::ffff:1.2.3.4) becomes two groups
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4?.[1]) {
    const b = ipv4ToBytes(v4[1]);
    text = `${text.slice(0, -v4[1].length)}${b.readUInt16BE(0).toString(16)}:${b.readUInt16BE(2).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

export function bytesToIPv6(b: Buffer): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i > 1) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** The canonical text of an IP address, or undefined when `text` is not one. */
export function canonicalIP(text: string): string | undefined {
  if (isIPv4(text)) return text.split('.').map(Number).join('.');
  if (isIPv6(text)) return bytesToIPv6(ipv6ToBytes(text));
  return undefined;
}

/**
 * The address a reverse name stands for (`4.3.2.1.in-addr.arpa.` -> 1.2.3.4; the 32-nibble
 * ip6.arpa form -> IPv6), or undefined when the name is not a complete reverse name.
 */
export function addressFromReverse(name: string): string | undefined {
  const lower = name.toLowerCase().replace(/\.$/, '');
  if (lower.endsWith('.in-addr.arpa')) {
    const labels = lower.slice(0, -'.in-addr.arpa'.length).split('.');
    if (labels.length !== 4) return undefined;
    return canonicalIP(labels.reverse().join('.'));
  }
  if (lower.endsWith('.ip6.arpa')) {
    const nibbles = lower.slice(0, -'.ip6.arpa'.length).split('.');
    if (nibbles.length !== 32 || nibbles.some((n) => !/^[0-9a-f]$/.test(n))) return undefined;
    const hex = nibbles.reverse().join('');
    return canonicalIP(hex.match(/.{4}/g)!.join(':'));
  }
  return undefined;
}

export function isReverseName(name: string): boolean {
  const lower = name.toLowerCase();
  return lower.endsWith('in-addr.arpa.') || lower.endsWith('ip6.arpa.');
}

/** The reverse zone name of a CIDR given in a Corefile zone list (10.96.0.0/24 -> 0.96.10.in-addr.arpa.). */
export function reverseZoneOfCidr(cidr: string): string | undefined {
  const [addr = '', lenText = ''] = cidr.split('/');
  const bits = Number(lenText);
  if (isIPv4(addr) && bits % 8 === 0 && bits <= 32) {
    const octets = addr.split('.').slice(0, bits / 8).reverse();
    return `${[...octets, 'in-addr', 'arpa'].join('.')}.`;
  }
  if (isIPv6(addr) && bits % 4 === 0 && bits <= 128) {
    const nibbles = ipv6ToBytes(addr).toString('hex').slice(0, bits / 4).split('').reverse();
    return `${[...nibbles, 'ip6', 'arpa'].join('.')}.`;
  }
  return undefined;
}
