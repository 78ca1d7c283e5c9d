// Shared address arithmetic: sloppy parsing as Kubernetes's, canonical text as Go prints it, wire
// bytes for DNS records, and the strict form cluster DNS uses.
import { describe, expect, it } from 'vitest';
import { canonicalIP, cidrContains, ipFromBytes, ipToBytes, parseCIDR, parseIP } from '../../src/api/ip.js';
import { canonicalIP as dnsCanonicalIP } from '../../src/dns/wire/ip.js';

describe('text', () => {
  it('writes IPv6 as RFC 5952 does (section 4 examples) and reads IPv4 octets with leading zeros as decimal', () => {
    expect(canonicalIP('2001:0db8:0:0:1:0:0:1')).toBe('2001:db8::1:0:0:1');
    expect(canonicalIP('2001:DB8:0:0:0:0:2:1')).toBe('2001:db8::2:1');
    expect(canonicalIP('2001:db8:0:1:1:1:1:1')).toBe('2001:db8:0:1:1:1:1:1');
    expect(canonicalIP('::ffff:192.0.2.1')).toBe('::ffff:c000:201');
    expect(canonicalIP(' 172.30.0.041 ')).toBe('172.30.0.41');
    expect(canonicalIP('1:2:3:4:5:6:7:8:9')).toBeUndefined();
    expect(canonicalIP('256.0.0.1')).toBeUndefined();
  });

  it('keeps CIDR containment within one family', () => {
    const cidr = parseCIDR('10.96.0.0/12')!;
    expect(cidrContains(cidr, parseIP('10.111.255.255')!)).toBe(true);
    expect(cidrContains(cidr, parseIP('10.112.0.0')!)).toBe(false);
    expect(cidrContains(parseCIDR('::/0')!, parseIP('10.0.0.1')!)).toBe(false);
  });

  it('is strict for DNS, as Go net.ParseIP: no leading zeros, no spaces', () => {
    expect(dnsCanonicalIP('172.30.0.041')).toBeUndefined();
    expect(dnsCanonicalIP(' 10.0.0.1')).toBeUndefined();
    expect(dnsCanonicalIP('FD00:0::1')).toBe('fd00::1');
  });
});

describe('wire bytes', () => {
  it('gives 4 bytes for IPv4 and 16 for IPv6, and reads them back', () => {
    expect([...ipToBytes('192.0.2.7')!]).toEqual([192, 0, 2, 7]);
    const v6 = ipToBytes('fd00::a:1')!;
    expect(v6.toString('hex')).toBe('fd00' + '0000'.repeat(5) + '000a' + '0001');
    expect(ipFromBytes(v6)).toBe('fd00::a:1');
    expect(ipFromBytes(Uint8Array.from([10, 244, 1, 5]))).toBe('10.244.1.5');
    expect(ipToBytes('not-an-ip')).toBeUndefined();
  });
});
