// Ordering normalisation of an nft dump, as kube-proxy's nftables unit tests apply it to both sides
// before comparing (upstream: sortNFTablesTransaction). Objects and elements may come in any order;
// rules keep their order within a chain because that order is semantic.

const TYPE_RANK: Record<string, number> = { table: 10, chain: 9, rule: 8, set: 7, map: 6, element: 5 };

function before(a: string, b: string): boolean {
  const wa = a.split(' ');
  const wb = b.split(' ');
  if (wa.length < 5 || wb.length < 5) return false;
  if (wa[1] !== wb[1]) return (TYPE_RANK[wa[1]!] ?? 0) >= (TYPE_RANK[wb[1]!] ?? 0);
  if (wa[4] !== wb[4]) return wa[4]! < wb[4]!;
  if (wa[1] === 'rule') return false;
  return a < b;
}

export function normalizeNft(text: string): string {
  const lines = text.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
  // Array.prototype.sort is stable, which the rule ordering relies on.
  return lines.sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0)).join('\n');
}
