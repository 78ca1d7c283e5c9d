// The --probability of the i-th of n endpoint jumps is 1/(n-i), which makes the overall choice
// uniform. Printed with ten decimals like Go's "%0.10f"; cached because large services reuse them.

const cache = new Map<number, string>();

export function computeProbability(n: number): string {
  let text = cache.get(n);
  if (text === undefined) {
    text = (1 / n).toFixed(10);
    cache.set(n, text);
  }
  return text;
}
