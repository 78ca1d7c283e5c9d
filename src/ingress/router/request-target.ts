// The request target -> the path routers match on (and that goes upstream), so that tricks like
// `/a/../b`, `%2e%2e` or `//` cannot reach a backend through a less specific rule. Steps, as
// Traefik's entrypoint: reject encoded characters that change the path's structure (%2F, %5C,
// %00, %3B, %25, %3F, %23) and malformed escapes; decode the rest; collapse duplicate slashes and
// resolve dot segments (never above the root), keeping a trailing slash.

export type TargetResult = { ok: true; path: string; query: string } | { ok: false; reason: string };

const REJECTED_ESCAPES = new Set(['2f', '5c', '00', '3b', '25', '3f', '23']);
// characters that keep their escape: reserved ones whose decoding would change the meaning
const KEEP_ESCAPED = new Set([':', '/', '?', '#', '[', ']', '@', '!', '$', '&', "'", '(', ')', '*', '+', ',', ';', '=', '%']);

function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  const lower = code | 0x20;
  return lower >= 97 && lower <= 102 ? lower - 87 : -1;
}

/** The byte a `%XX` escape at `at` stands for, or -1 when it is malformed. */
function escapedByte(path: string, at: number): number {
  const hi = hexValue(path.charCodeAt(at + 1));
  const lo = hexValue(path.charCodeAt(at + 2));
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

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
      const byte = escapedByte(path, i);
      if (byte < 0) return undefined;
      bytes.push(byte);
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

// what may appear unescaped in a path on the wire (RFC 3986 pchar + '/' + kept escapes), by ASCII code
const WIRE_SAFE = new Uint8Array(128);
for (const ch of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@/%") WIRE_SAFE[ch.charCodeAt(0)] = 1;

function wireSafe(code: number): boolean {
  return code < 128 && WIRE_SAFE[code] === 1;
}

/** The routing path, escaped for the request line upstream. */
export function wirePath(path: string): string {
  let i = 0;
  while (i < path.length && wireSafe(path.charCodeAt(i))) i++;
  if (i === path.length) return path;
  let out = path.slice(0, i);
  for (const ch of path.slice(i)) out += ch.length === 1 && wireSafe(ch.charCodeAt(0)) ? ch : encodeURIComponent(ch);
  return out;
}

/**
 * Whether a path without escapes is already what cleanPath would make of it: no empty segment
 * (`//`) and no `.` or `..` segment. Most requests take this way and skip the rewriting.
 */
function isPlainCleanPath(path: string): boolean {
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 37 /* % */) return false;
    if (c !== 47 /* / */) continue;
    const next = path.charCodeAt(i + 1);
    if (next === 47) return false;
    if (next !== 46 /* . */) continue;
    const after = path.charCodeAt(i + 2);
    if (Number.isNaN(after) || after === 47) return false;
    if (after === 46 && (i + 3 === path.length || path.charCodeAt(i + 3) === 47)) return false;
  }
  return true;
}

/** The first escape in the path that decodes to a character changing its structure, if any. */
function rejectedEscape(path: string): string | undefined {
  for (let i = path.indexOf('%'); i >= 0; i = path.indexOf('%', i + 1)) {
    if (escapedByte(path, i) < 0) continue;
    const hex = path.slice(i + 1, i + 3);
    if (REJECTED_ESCAPES.has(hex.toLowerCase())) return hex;
  }
  return undefined;
}

export function normalizeTarget(target: string): TargetResult {
  let rest = target;
  if (rest.charCodeAt(0) !== 47 /* / */ && /^https?:\/\//i.test(rest)) {
    // absolute-form: keep path and query only
    const slash = rest.indexOf('/', rest.indexOf('//') + 2);
    rest = slash < 0 ? '/' : rest.slice(slash);
  }
  if (rest.charCodeAt(0) !== 47 /* / */) return { ok: false, reason: 'request target must start with /' };
  const q = rest.indexOf('?');
  const rawPath = q < 0 ? rest : rest.slice(0, q);
  const query = q < 0 ? '' : rest.slice(q + 1);
  if (isPlainCleanPath(rawPath)) return { ok: true, path: rawPath, query };
  const rejected = rejectedEscape(rawPath);
  if (rejected) return { ok: false, reason: `encoded character %${rejected} is not allowed in the path` };
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
  return h.endsWith('.') ? h.slice(0, -1) : h;
}
