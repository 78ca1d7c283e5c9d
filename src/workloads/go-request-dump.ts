// Go's (*http.Request).Write applied to a request a server received — what traefik/whoami prints
// under its "RemoteAddr:" line. The request line always says HTTP/1.1; Host and User-Agent come
// first (User-Agent defaults to Go's own when the client sent none); then Connection: close when
// the client asked to close without saying so in a header, the body framing, the remaining headers
// sorted by canonical key, a blank line and the body.

import type { IncomingMessage } from 'node:http';
import { canonicalHeaderKey } from './go-http.js';

const writtenSeparately = new Set(['Host', 'User-Agent', 'Content-Length', 'Transfer-Encoding', 'Trailer']);

export function goRequestDump(req: IncomingMessage, body: Buffer): string {
  const headers = new Map<string, string[]>();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const key = canonicalHeaderKey(req.rawHeaders[i]!);
    headers.set(key, [...(headers.get(key) ?? []), req.rawHeaders[i + 1]!]);
  }
  const method = req.method ?? 'GET';
  const lines = [`${method} ${req.url ?? '/'} HTTP/1.1`, `Host: ${req.headers.host ?? ''}`];
  const userAgent = headers.has('User-Agent') ? headers.get('User-Agent')![0]! : 'Go-http-client/1.1';
  if (userAgent !== '') lines.push(`User-Agent: ${userAgent}`);

  const connection = (headers.get('Connection') ?? []).join(',').toLowerCase();
  const asksClose = req.httpVersion === '1.0' ? !/\bkeep-alive\b/.test(connection) : /\bclose\b/.test(connection);
  if (asksClose && !/\bclose\b/.test(connection)) lines.push('Connection: close');

  const chunked = /\bchunked\b/i.test(req.headers['transfer-encoding'] ?? '');
  if (chunked) lines.push('Transfer-Encoding: chunked');
  else if (body.length > 0 || (method !== 'GET' && method !== 'HEAD')) lines.push(`Content-Length: ${body.length}`);

  for (const key of [...headers.keys()].sort()) {
    if (writtenSeparately.has(key)) continue;
    for (const value of headers.get(key)!) lines.push(`${key}: ${value.replace(/[\r\n]+/g, ' ').trim()}`);
  }
  const head = `${lines.join('\r\n')}\r\n\r\n`;
  if (!chunked) return head + body.toString();
  const chunk = body.length > 0 ? `${body.length.toString(16)}\r\n${body.toString()}\r\n` : '';
  return `${head}${chunk}0\r\n\r\n`;
}
