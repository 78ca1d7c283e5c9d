// The request target -> the path routers match on (and that goes upstream), so that tricks like
// `/a/../b`, `%2e%2e` or `//` cannot reach a backend through a less specific rule. Steps, as
// Traefik's entrypoint: reject encoded characters that change the path's structure (%2F, %5C,
// %00, %3B, %25, %3F, %23) and malformed escapes; decode the rest; collapse duplicate slashes and
// resolve dot segments (never above the root), keeping a trailing slash.

export type TargetResult = { ok: true; path: string; query: string } | { ok: false; reason: string };

const REJECTED_ESCAPES = new Set(['2f', '5c', '00', '3b', '25', '3f', '23']);
// characters that keep their escape: reserved ones whose decoding would change the meaning
const KEEP_ESCAPED = new Set([':', '/', '?', '#', '[', ']', '@', '!', '$', '&', "'", '(', ')', '*', '+', ',', ';', '=', '%']);

function decodeSelected(path: string): string | undefined {
  const bytes: number[] = [];
  let out = '';
  const flush = (): boolean => {
    if (bytes.length === 0) return true;
    const text = Buffer.from(bytes).toString('utf8');
    bytes.length = 0;
    if (text.includes('\uFFFD')) return false;
    for (const ch of text) out += KEEP_ESCAPED.has(ch) ? `%${ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}` : ch;
    return true;
  };
  for (let i = 0; i < path.length; i++) {
    const c = path[i]!;
    if (c === '%') {
      const hex = path.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) return undefined;
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      if (!flush()) return undefined;
      out += c;
    }
  }
  return flush() ? out : undefined;
}

/** path.Clean for URL paths, keeping a trailing slash (and the root). */
export function cleanPath(path: string): string {
  const out: string[] = [];
  for (const seg of path.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  const trailing = /\/\.{0,2}$/.test(path) && out.length > 0;
  return `/${out.join('/')}${trailing ? '/' : ''}`;
}

// what may appear unescaped in a path on the wire (RFC 3986 pchar + '/' + kept escapes)
const WIRE_SAFE = /[A-Za-z0-9\-._~!$&'()*+,;=:@/%]/;

/** The routing path, escaped for the request line upstream. */
export function wirePath(path: string): string {
  let out = '';
  for (const ch of path) out += WIRE_SAFE.test(ch) ? ch : encodeURIComponent(ch);
  return out;
}

export function normalizeTarget(target: string): TargetResult {
  let rest = target;
  if (/^https?:\/\//i.test(rest)) {
    // absolute-form: keep path and query only
    const slash = rest.indexOf('/', rest.indexOf('//') + 2);
    rest = slash < 0 ? '/' : rest.slice(slash);
  }
  if (!rest.startsWith('/')) return { ok: false, reason: 'request target must start with /' };
  const q = rest.indexOf('?');
  const rawPath = q < 0 ? rest : rest.slice(0, q);
  const query = q < 0 ? '' : rest.slice(q + 1);
  for (const m of rawPath.matchAll(/%([0-9a-fA-F]{2})/g)) {
    if (REJECTED_ESCAPES.has(m[1]!.toLowerCase())) return { ok: false, reason: `encoded character %${m[1]} is not allowed in the path` };
  }
  const decoded = decodeSelected(rawPath);
  if (decoded === undefined) return { ok: false, reason: 'invalid URL escape in the path' };
  return { ok: true, path: cleanPath(decoded), query };
}

/** Host header -> lower case, without port and trailing dot. */
export function routingHost(hostHeader: string | undefined): string {
  let h = (hostHeader ?? '').trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    h = end > 0 ? h.slice(1, end) : h;
  } else {
    const colon = h.lastIndexOf(':');
    if (colon >= 0 && h.indexOf(':') === colon) h = h.slice(0, colon);
  }
  return h.replace(/\.$/, '');
}
