// The headers an upstream request carries, as Traefik sets them: hop-by-hop headers (and those the
// Connection header names) removed, X-Forwarded-* and X-Real-Ip from an untrusted client dropped,
// then X-Forwarded-Proto/-Host/-Port/-Server and X-Real-Ip set and the client IP appended to
// X-Forwarded-For. The Host header passes through unchanged unless passHostHeader is off.

import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']);
const MANAGED = new Set([
  'x-forwarded-proto', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-port', 'x-forwarded-server', 'x-forwarded-uri',
  'x-forwarded-method', 'x-forwarded-prefix', 'x-forwarded-tls-client-cert', 'x-forwarded-tls-client-cert-info', 'x-real-ip',
  'x-forwarded-scheme', 'x-scheme',
]);

export interface ForwardInput {
  headers: IncomingHttpHeaders;
  clientIp: string;
  tls: boolean;
  /** X-Forwarded-Server: the controller's host name */
  serverName: string;
  /** trust the client's own X-Forwarded-* (forwardedHeaders.insecure / trustedIPs) */
  trusted: boolean;
}

export function isWebSocketUpgrade(headers: IncomingHttpHeaders): boolean {
  return /\bupgrade\b/i.test(headers.connection ?? '') && (headers.upgrade ?? '').toLowerCase() === 'websocket';
}

/** Header names a Connection header adds to the hop-by-hop ones (lower case), if any. */
function connectionNamed(connection: string | undefined): Set<string> | undefined {
  if (!connection) return undefined;
  let named: Set<string> | undefined;
  for (const n of connection.split(',')) {
    const name = n.trim().toLowerCase();
    if (name && !HOP_BY_HOP.has(name)) (named ??= new Set()).add(name);
  }
  return named;
}

/** X-Forwarded-* / X_Forwarded_* and X_Real_Ip: what an untrusted client may not set. */
function clientForwardingHeader(name: string): boolean {
  if (name.charCodeAt(0) !== 120 /* x */) return false;
  if (MANAGED.has(name) || name === 'x_real_ip') return true;
  return /^x[-_]forwarded[-_]/.test(name);
}

/** The port in a Host header value (after an IPv6 literal's closing bracket), if any. */
function hostPort(host: string): string | undefined {
  const colon = host.lastIndexOf(':');
  if (colon < 0 || colon < host.lastIndexOf(']') || colon === host.length - 1) return undefined;
  for (let i = colon + 1; i < host.length; i++) {
    const c = host.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
  }
  return host.slice(colon + 1);
}

export function forwardedHeaders(input: ForwardInput): OutgoingHttpHeaders {
  const { headers } = input;
  const named = connectionNamed(headers.connection);
  const out: OutgoingHttpHeaders = {};
  for (const k in headers) {
    const v = headers[k];
    // the entrypoint already answered 100-continue; the upstream request streams the body at once
    if (v === undefined || HOP_BY_HOP.has(k) || k === 'expect') continue;
    const managed = clientForwardingHeader(k);
    // Traefik's own headers survive even when Connection names them
    if (named?.has(k) && !MANAGED.has(k)) continue;
    if (managed && !input.trusted) continue;
    out[k] = v;
  }
  const ws = isWebSocketUpgrade(headers);
  if (ws) {
    out.connection = 'Upgrade';
    out.upgrade = headers.upgrade;
  }
  const host = headers.host ?? '';
  out['x-forwarded-proto'] ??= ws ? (input.tls ? 'wss' : 'ws') : input.tls ? 'https' : 'http';
  out['x-forwarded-host'] ??= host;
  out['x-forwarded-port'] ??= hostPort(host) ?? (input.tls ? '443' : '80');
  out['x-forwarded-server'] ??= input.serverName;
  out['x-real-ip'] ??= input.clientIp;
  const prior = out['x-forwarded-for'];
  out['x-forwarded-for'] = prior ? `${Array.isArray(prior) ? prior.join(', ') : String(prior)}, ${input.clientIp}` : input.clientIp;
  return out;
}

/** Response headers without hop-by-hop ones (Node frames the response itself). */
export function responseHeaders(headers: Record<string, string | string[] | undefined>): OutgoingHttpHeaders {
  const conn = headers.connection;
  const named = connectionNamed(Array.isArray(conn) ? conn.join(',') : conn);
  const out: OutgoingHttpHeaders = {};
  for (const k in headers) {
    const v = headers[k];
    if (v === undefined) continue;
    const name = k.toLowerCase();
    if (!HOP_BY_HOP.has(name) && !named?.has(name)) out[name] = v;
  }
  return out;
}
