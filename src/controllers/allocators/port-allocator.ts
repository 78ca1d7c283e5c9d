// NodePort allocation from the node port range (pkg/registry/core/service/portallocator), with a
// static band of min(max(16, size/32), 128) ports at the bottom for explicitly requested ports.

import { BandedBitmap, type Random } from './bitmap.js';

export const ERR_PORT_ALLOCATED = 'provided port is already allocated';

/** Size of the static band for a range of `rangeSize` ports (upstream calculateRangeOffset). */
export function portStaticBandSize(rangeSize: number): number {
  if (rangeSize <= 16) return 0;
  return Math.min(Math.max(16, Math.floor(rangeSize / 32)), 128);
}

export class PortAllocator {
  private readonly bitmap: BandedBitmap;

  constructor(
    readonly range: { min: number; max: number },
    random?: Random,
  ) {
    const size = range.max - range.min + 1;
    if (!Number.isInteger(range.min) || !Number.isInteger(range.max) || size < 1) {
      throw new Error(`node port range ${range.min}-${range.max} is empty`);
    }
    this.bitmap = new BandedBitmap(size, portStaticBandSize(size), random);
  }

  contains(port: number): boolean {
    return Number.isInteger(port) && port >= this.range.min && port <= this.range.max;
  }

  has(port: number): boolean {
    return this.contains(port) && this.bitmap.has(port - this.range.min);
  }

  /** Takes a specific port; returns upstream's error text when it cannot. */
  allocate(port: number): string | undefined {
    if (!this.contains(port)) {
      return `provided port is not in the valid range. The range of valid ports is ${this.range.min}-${this.range.max}`;
    }
    return this.bitmap.allocate(port - this.range.min) ? undefined : ERR_PORT_ALLOCATED;
  }

  /** A free port, from the dynamic band when possible; undefined when the range is full. */
  allocateNext(): number | undefined {
    const off = this.bitmap.allocateNext();
    return off === undefined ? undefined : this.range.min + off;
  }

  release(port: number): void {
    if (this.contains(port)) this.bitmap.release(port - this.range.min);
  }

  get free(): number {
    return this.bitmap.free;
  }

  /** The first port past the static band: dynamic allocations start there. */
  get firstDynamic(): number {
    return this.range.min + this.bitmap.staticBand;
  }
}
