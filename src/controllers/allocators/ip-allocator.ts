// ClusterIP allocation from the service CIDR (pkg/registry/core/service/ipallocator): every host
// address except the network and broadcast addresses, with a static band of
// min(max(16, size/16), 256) addresses at the bottom for explicitly requested IPs.

import { BandedBitmap, type Random } from './bitmap.js';
import { isIPv4 } from '../../api/validation/names.js';

export const ERR_FULL = 'range is full';
export const ERR_IP_ALLOCATED = 'provided IP is already allocated';

function ipToInt(ip: string): number {
  return ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
}

function intToIP(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

/** Size of the static band for a CIDR of `cidrSize` addresses (upstream calculateRangeOffset). */
export function ipStaticBandSize(cidrSize: number): number {
  if (cidrSize < 16) return 0;
  return Math.min(Math.max(16, Math.floor(cidrSize / 16)), 256);
}

export class IPAllocator {
  private readonly base: number;
  private readonly bitmap: BandedBitmap;

  constructor(
    readonly cidr: string,
    random?: Random,
  ) {
    const [ip, bitsText] = cidr.split('/');
    const bits = Number(bitsText);
    if (!isIPv4(ip) || !Number.isInteger(bits) || bits < 1 || bits > 30) {
      throw new Error(`service CIDR ${cidr}: kemu allocates ClusterIPs from an IPv4 CIDR of /1 to /30`);
    }
    const cidrSize = 2 ** (32 - bits);
    const network = ipToInt(ip) - (ipToInt(ip) % cidrSize);
    this.base = network + 1; // the network address itself is never handed out
    const size = cidrSize - 2; // nor is the broadcast address
    this.bitmap = new BandedBitmap(size, Math.min(ipStaticBandSize(cidrSize), size), random);
  }

  private offset(ip: string): number | undefined {
    if (!isIPv4(ip)) return undefined;
    const off = ipToInt(ip) - this.base;
    return off >= 0 && off < this.bitmap.size ? off : undefined;
  }

  contains(ip: string): boolean {
    return this.offset(ip) !== undefined;
  }

  has(ip: string): boolean {
    const off = this.offset(ip);
    return off !== undefined && this.bitmap.has(off);
  }

  /** Takes a specific IP; returns upstream's error text when it cannot. */
  allocate(ip: string): string | undefined {
    const off = this.offset(ip);
    if (off === undefined) return `the provided IP (${ip}) is not in the valid range. The range of valid IPs is ${this.cidr}`;
    return this.bitmap.allocate(off) ? undefined : ERR_IP_ALLOCATED;
  }

  /** A free IP, from the dynamic band when possible; undefined when the range is full. */
  allocateNext(): string | undefined {
    const off = this.bitmap.allocateNext();
    return off === undefined ? undefined : intToIP(this.base + off);
  }

  release(ip: string): void {
    const off = this.offset(ip);
    if (off !== undefined) this.bitmap.release(off);
  }

  get free(): number {
    return this.bitmap.free;
  }

  /** The first address past the static band: dynamic allocations start there. */
  get firstDynamic(): string {
    return intToIP(this.base + this.bitmap.staticBand);
  }
}
