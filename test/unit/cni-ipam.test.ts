import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { candidates, ipamAdd, ipamCheck, ipamDel, parseHostLocalConfig } from '../../src/cni/plugin/ipam.js';
import type { HostLocalConfig } from '../../src/cni/plugin/ipam.js';
import { formatIPv4, parseIPv4 } from '../../src/cni/plugin/ipv4.js';
import { CniError } from '../../src/cni/plugin/result.js';

let dataDir: string;
beforeEach(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kemu-ipam-'));
});
afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

const conf = (ranges: unknown, extra: Record<string, unknown> = {}): HostLocalConfig =>
  parseHostLocalConfig({ type: 'host-local', ranges, dataDir, ...extra });
const att = (containerID: string, ifname = 'eth0') => ({ network: 'cbr0', containerID, ifname });
const noArgs = new Map<string, string>();
const errorOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected an error');
};

describe('host-local config', () => {
  it('defaults: gateway .1, range .1-.254 of a /24', () => {
    const r = conf([[{ subnet: '10.244.1.0/24' }]]).rangeSets[0]?.[0];
    expect(r).toMatchObject({ rangeStart: parseIPv4('10.244.1.1'), rangeEnd: parseIPv4('10.244.1.254'), gateway: parseIPv4('10.244.1.1') });
  });

  it('accepts the legacy top-level subnet before ranges', () => {
    const c = parseHostLocalConfig({ type: 'host-local', subnet: '10.1.0.0/24', ranges: [[{ subnet: '10.2.0.0/24' }]] });
    expect(c.rangeSets.map((s) => formatIPv4(s[0]!.subnet.ip))).toEqual(['10.1.0.0', '10.2.0.0']);
    expect(c.dataDir).toBe('/var/lib/cni/networks');
  });

  it.each([
    [[[{ subnet: '10.244.1.5/24' }]], 'invalid range set 0: Network has host bits set. For a subnet mask of length 24 the network address is 10.244.1.0'],
    [[[{ subnet: '10.244.1.0/24', rangeStart: '10.244.2.1' }]], 'invalid range set 0: RangeStart 10.244.2.1 not in network 10.244.1.0/24'],
    [[[{ subnet: '10.244.1.0/24', rangeEnd: '10.244.2.1' }]], 'invalid range set 0: RangeEnd 10.244.2.1 not in network 10.244.1.0/24'],
    [[[{ subnet: '10.244.1.0/31' }]], 'invalid range set 0: Network 10.244.1.0/31 too small to allocate from'],
    [[[{ subnet: '10.244.1.0/24' }, { subnet: '10.244.1.0/25' }]], 'invalid range set 0: subnets 10.244.1.1-10.244.1.254 and 10.244.1.1-10.244.1.126 overlap'],
    [[], 'no IP ranges specified'],
  ])('rejects %j with the reference wording', (ranges, message) => {
    expect(errorOf(() => conf(ranges))).toBe(message);
  });
});

describe('allocation order', () => {
  const order = (c: HostLocalConfig, last?: string) =>
    [...candidates(c.rangeSets[0]!, last === undefined ? undefined : parseIPv4(last))].map((x) => formatIPv4(x.ip));

  it('starts at rangeStart and skips the gateway', () => {
    expect(order(conf([[{ subnet: '10.0.0.0/29' }]]))).toEqual(['10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6']);
  });

  it('continues after the last reserved address and wraps once around', () => {
    expect(order(conf([[{ subnet: '10.0.0.0/29' }]]), '10.0.0.4')).toEqual(['10.0.0.5', '10.0.0.6', '10.0.0.2', '10.0.0.3', '10.0.0.4']);
  });

  it('walks the ranges of a set round-robin', () => {
    const c = conf([[{ subnet: '10.0.0.0/30' }, { subnet: '10.0.1.0/30' }]]);
    expect(order(c, '10.0.1.2')).toEqual(['10.0.0.2', '10.0.1.2']);
  });

  it('ignores a last reserved address outside the set', () => {
    expect(order(conf([[{ subnet: '10.0.0.0/30' }]]), '192.168.0.9')).toEqual(['10.0.0.2']);
  });
});

describe('host-local on disk', () => {
  const c24 = () => conf([[{ subnet: '10.244.1.0/24' }]], { routes: [{ dst: '10.244.0.0/16' }] });

  it('hands out .2, .3 and writes the reference file layout', async () => {
    const a = await ipamAdd(c24(), att('ctr1'), noArgs);
    const b = await ipamAdd(c24(), att('ctr2'), noArgs);
    expect(a.ips).toEqual([{ address: '10.244.1.2/24', gateway: '10.244.1.1' }]);
    expect(b.ips?.[0]?.address).toBe('10.244.1.3/24');
    expect(a.routes).toEqual([{ dst: '10.244.0.0/16' }]);
    const dir = path.join(dataDir, 'cbr0');
    expect(fs.readdirSync(dir).sort()).toEqual(['10.244.1.2', '10.244.1.3', 'last_reserved_ip.0', 'lock']);
    expect(fs.readFileSync(path.join(dir, '10.244.1.2'), 'utf8')).toBe('ctr1\r\neth0');
    expect(fs.readFileSync(path.join(dir, 'last_reserved_ip.0'), 'utf8')).toBe('10.244.1.3');
  });

  it('does not reuse a released address before wrapping (round robin)', async () => {
    await ipamAdd(c24(), att('ctr1'), noArgs);
    await ipamDel(c24(), att('ctr1'));
    const again = await ipamAdd(c24(), att('ctr2'), noArgs);
    expect(again.ips?.[0]?.address).toBe('10.244.1.3/24');
    expect(fs.existsSync(path.join(dataDir, 'cbr0', '10.244.1.2'))).toBe(false);
  });

  it('refuses a duplicate ADD and keeps the first reservation', async () => {
    await ipamAdd(c24(), att('ctr1'), noArgs);
    await expect(ipamAdd(c24(), att('ctr1'), noArgs)).rejects.toThrow(
      'failed to allocate for range 0: 10.244.1.2 has been allocated to ctr1, duplicate allocation is not allowed',
    );
    await expect(ipamCheck(c24(), att('ctr1'))).resolves.toBeUndefined();
  });

  it('DEL releases only its own attachment and is idempotent', async () => {
    await ipamAdd(c24(), att('ctr1', 'eth0'), noArgs);
    await ipamAdd(c24(), att('ctr1', 'eth1'), noArgs);
    await ipamDel(c24(), att('ctr1', 'eth0'));
    await ipamDel(c24(), att('ctr1', 'eth0'));
    expect(fs.readFileSync(path.join(dataDir, 'cbr0', '10.244.1.3'), 'utf8')).toBe('ctr1\r\neth1');
    const err = await ipamCheck(c24(), att('ctr1', 'eth0')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CniError);
    expect((err as CniError).message).toBe('host-local: Failed to find address added by container ctr1');
  });

  it('reports exhaustion with the range set', async () => {
    const small = conf([[{ subnet: '10.244.1.0/30' }]]);
    await ipamAdd(small, att('a'), noArgs);
    await expect(ipamAdd(small, att('b'), noArgs)).rejects.toThrow(
      'failed to allocate for range 0: no IP addresses available in range set: 10.244.1.1-10.244.1.2',
    );
  });

  it('honours IP= and refuses the gateway or a taken address', async () => {
    const got = await ipamAdd(c24(), att('a'), new Map([['IP', '10.244.1.50']]));
    expect(got.ips?.[0]?.address).toBe('10.244.1.50/24');
    await expect(ipamAdd(c24(), att('b'), new Map([['IP', '10.244.1.1']]))).rejects.toThrow('requested ip 10.244.1.1 is subnet\'s gateway');
    await expect(ipamAdd(c24(), att('c'), new Map([['IP', '10.244.1.50']]))).rejects.toThrow(
      'requested IP address 10.244.1.50 is not available in range set 10.244.1.1-10.244.1.254',
    );
  });

  it('gives concurrent ADDs distinct addresses (flock-serialised)', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => ipamAdd(c24(), att(`c${i}`), noArgs)));
    const addresses = results.map((r) => r.ips?.[0]?.address);
    expect(new Set(addresses).size).toBe(8);
    expect(fs.readdirSync(path.join(dataDir, 'cbr0')).filter((f) => f.startsWith('10.')).length).toBe(8);
  });
});
