// Addresses in DNS terms: the canonical text records carry and reverse (in-addr.arpa / ip6.arpa)
// names. IPv6 text is the RFC 5952 canonical form (lower case, longest zero run as '::'), which is
// what dig and Go's net.IP print.

import { isIPv4, isIPv6 } from 'node:net';
import { canonicalIP as canonicalSloppy, ipToBytes } from '../../api/ip.js';

/**
 * The canonical text of an IP address, or undefined when `text` is not one. Strict as CoreDNS's
 * net.ParseIP: no leading zeros, no surrounding space (node:net decides, the shared module formats).
 */
export function canonicalIP(text: string): string | undefined {
  if (isIPv4(text)) return text;
  return isIPv6(text) ? canonicalSloppy(text) : undefined;
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
  const v6 = isIPv6(addr) ? ipToBytes(addr) : undefined;
  if (v6 && bits % 4 === 0 && bits <= 128) {
    const nibbles = v6.toString('hex').slice(0, bits / 4).split('').reverse();
    return `${[...nibbles, 'ip6', 'arpa'].join('.')}.`;
  }
  return undefined;
}
