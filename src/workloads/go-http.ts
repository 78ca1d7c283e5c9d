// What Go's net/http does on its own that the programs kemu stands in for (agnhost, whoami, the
// ingress echo server — all Go) let their clients see: canonical header keys, a sniffed
// Content-Type, http.Error and http.Redirect bodies, ServeMux's clean-path redirects, RemoteAddr
// with IPv4-mapped addresses unmapped, and encoding/json's HTML-safe escaping.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { posix } from 'node:path';

/** textproto.CanonicalMIMEHeaderKey: "x-real-ip" -> "X-Real-Ip"; keys with non-token bytes stay as they are. */
export function canonicalHeaderKey(key: string): string {
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(key)) return key;
  return key.toLowerCase().replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());
}

/**
 * The request's http.Header: canonical keys, values in arrival order, keys sorted (as encoding/json
 * prints a map). Go moves Host out of the header map and drops Transfer-Encoding.
 */
export function goRequestHeader(req: IncomingMessage): Record<string, string[]> {
  const grouped = new Map<string, string[]>();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const key = canonicalHeaderKey(req.rawHeaders[i]!);
    if (key === 'Host' || key === 'Transfer-Encoding') continue;
    const values = grouped.get(key) ?? [];
    values.push(req.rawHeaders[i + 1]!);
    grouped.set(key, values);
  }
  const sorted: Record<string, string[]> = {};
  for (const key of [...grouped.keys()].sort()) sorted[key] = grouped.get(key)!;
  return sorted;
}

/** encoding/json output: like JSON.stringify, but <, > and & escaped as Go does by default. */
export function goJson(value: unknown, indent?: string): string {
  return JSON.stringify(value, null, indent)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

const htmlSignatures = [
  '<!DOCTYPE HTML', '<HTML', '<HEAD', '<SCRIPT', '<IFRAME', '<H1', '<DIV', '<FONT', '<TABLE', '<A',
  '<STYLE', '<TITLE', '<B', '<BODY', '<BR', '<P', '<!--',
];

/** http.DetectContentType, reduced to the answers a text-serving test program can produce. */
export function sniffContentType(body: Buffer): string {
  const head = body.subarray(0, 512).toString('latin1').replace(/^[\t\n\f\r ]+/, '');
  const upper = head.toUpperCase();
  for (const sig of htmlSignatures) {
    const next = upper.charAt(sig.length);
    if (upper.startsWith(sig) && (next === ' ' || next === '>')) return 'text/html; charset=utf-8';
  }
  if (head.startsWith('<?xml')) return 'text/xml; charset=utf-8';
  if (head.startsWith('%PDF-')) return 'application/pdf';
  if (/[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f]/.test(head)) return 'application/octet-stream';
  return 'text/plain; charset=utf-8';
}

/** Finish a response as a Go handler that wrote `body` would: sniffed Content-Type, Content-Length. */
export function sendGo(res: ServerResponse, status: number, body: string | Buffer = ''): void {
  const buf = typeof body === 'string' ? Buffer.from(body) : body;
  if (buf.length > 0 && !res.hasHeader('Content-Type')) res.setHeader('Content-Type', sniffContentType(buf));
  res.setHeader('Content-Length', buf.length);
  res.writeHead(status);
  res.end(res.req.method === 'HEAD' ? undefined : buf);
}

/** http.Error */
export function goError(res: ServerResponse, status: number, message: string): void {
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  sendGo(res, status, `${message}\n`);
}

const statusText: Record<number, string> = {
  300: 'Multiple Choices', 301: 'Moved Permanently', 302: 'Found', 303: 'See Other', 304: 'Not Modified',
  305: 'Use Proxy', 307: 'Temporary Redirect', 308: 'Permanent Redirect',
};

/** http.Redirect: a relative location is resolved against the request path; GET gets a small HTML body. */
export function goRedirect(req: IncomingMessage, res: ServerResponse, location: string, code: number): void {
  let target = location;
  if (!/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(target) && !target.startsWith('/')) {
    const dir = posix.dirname(`${requestPath(req)}x`);
    target = posix.join(dir, target) + (target.endsWith('/') ? '/' : '');
  }
  res.setHeader('Location', target);
  if (req.method === 'GET' || req.method === 'HEAD') res.setHeader('Content-Type', 'text/html; charset=utf-8');
  const body = req.method === 'GET' ? `<a href="${escapeHtml(target)}">${statusText[code] ?? ''}</a>.\n\n` : '';
  sendGo(res, code, body);
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&#34;').replace(/'/g, '&#39;');
}

/** The path part of the raw request-target. */
export function requestPath(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const pathPart = url.startsWith('/') ? url : url.replace(/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/]*/, '');
  const q = pathPart.indexOf('?');
  return (q < 0 ? pathPart : pathPart.slice(0, q)) || '/';
}

/** The query string's parameters (url.ParseQuery; '+' is a space). */
export function queryParams(req: IncomingMessage): URLSearchParams {
  const url = req.url ?? '';
  const q = url.indexOf('?');
  return new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
}

/**
 * ServeMux answers a path with `.`/`..` segments or doubled slashes with a 301 to the cleaned path.
 * Returns true when it sent that redirect.
 */
export function redirectUncleanPath(req: IncomingMessage, res: ServerResponse, path: string): boolean {
  const cleaned = posix.normalize(path);
  if (cleaned === path) return false;
  const url = req.url ?? '';
  const q = url.indexOf('?');
  goRedirect(req, res, cleaned + (q < 0 ? '' : url.slice(q)), 301);
  return true;
}

/** net.JoinHostPort of an address, with IPv4-mapped IPv6 addresses shown as IPv4 (as Go does). */
export function goHostPort(address: string | undefined, port: number | undefined): string {
  const ip = unmapIPv4(address ?? '');
  return ip.includes(':') ? `[${ip}]:${port ?? 0}` : `${ip}:${port ?? 0}`;
}

export function unmapIPv4(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/** r.RemoteAddr */
export function remoteAddr(req: IncomingMessage): string {
  return goHostPort(req.socket.remoteAddress, req.socket.remotePort);
}

/** Read the whole request body, at most `limit` bytes (more is cut off, as Go's form parser does). */
export async function readBody(req: IncomingMessage, limit = 10 << 20): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    if (size < limit) chunks.push(chunk.subarray(0, limit - size));
    size += chunk.length;
  }
  return Buffer.concat(chunks);
}

/**
 * r.FormValue: the first value of `name`, from a url-encoded POST/PUT/PATCH body before the query.
 */
export function formValue(req: IncomingMessage, body: Buffer, name: string): string {
  const type = req.headers['content-type'] ?? '';
  if (['POST', 'PUT', 'PATCH'].includes(req.method ?? '') && type.startsWith('application/x-www-form-urlencoded')) {
    const fromBody = new URLSearchParams(body.toString('utf8')).get(name);
    if (fromBody !== null) return fromBody;
  }
  return queryParams(req).get(name) ?? '';
}
