// A bitmap of numbered slots with kube-apiserver's static/dynamic split: the first `staticBand`
// slots are left for callers that ask for a specific value (the `kubernetes` Service's IP, kube-dns,
// well-known NodePorts), so dynamic allocation picks randomly from the slots above them and only
// falls back to the static band when the upper band is full.

export type Random = () => number;

export class BandedBitmap {
  private readonly bits: Uint8Array;
  private used = 0;

  constructor(
    readonly size: number,
    readonly staticBand: number,
    private readonly random: Random = Math.random,
  ) {
    this.bits = new Uint8Array(Math.ceil(size / 8));
  }

  has(i: number): boolean {
    return (this.bits[i >> 3] & (1 << (i & 7))) !== 0;
  }

  /** Marks slot i; false when it was already taken. */
  allocate(i: number): boolean {
    if (this.has(i)) return false;
    this.bits[i >> 3] |= 1 << (i & 7);
    this.used++;
    return true;
  }

  release(i: number): void {
    if (!this.has(i)) return;
    this.bits[i >> 3] &= ~(1 << (i & 7));
    this.used--;
  }

  get free(): number {
    return this.size - this.used;
  }

  /** A free slot, preferring the dynamic band, at a random start; undefined when all are taken. */
  allocateNext(): number | undefined {
    if (this.used >= this.size) return undefined;
    const slot = this.scan(this.staticBand, this.size) ?? this.scan(0, this.staticBand);
    if (slot !== undefined) this.allocate(slot);
    return slot;
  }

  /** First free slot in [from, to) walking circularly from a random point. */
  private scan(from: number, to: number): number | undefined {
    const n = to - from;
    if (n <= 0) return undefined;
    const start = Math.floor(this.random() * n) % n;
    for (let k = 0; k < n; k++) {
      const at = from + ((start + k) % n);
      if (!this.has(at)) return at;
    }
    return undefined;
  }
}
