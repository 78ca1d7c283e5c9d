// Go duration strings ('1m30s', '500ms', '10s') as Traefik's configuration takes them -> ms.

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export function parseGoDuration(text: string): number {
  if (/^\d+$/.test(text)) return Number(text) * 1000; // Traefik reads a bare number as seconds
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    matched = re.lastIndex;
  }
  if (matched !== text.length || text === '') throw new Error(`invalid duration ${JSON.stringify(text)}`);
  return total;
}
