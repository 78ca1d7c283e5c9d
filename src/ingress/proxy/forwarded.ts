// The headers an upstream request carries, as Traefik sets them: hop-by-hop headers (and those the
// Connection header names) removed, X-Forwarded-* and X-Real-Ip from an untrusted client dropped,
// then X-Forwarded-Proto/-Host/-Port/-Server and X-Real-Ip set and the client IP appended to
// X-Forwarded-For. The Host header passes through unchanged unless passHostHeader is off.

import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade'];
const MANAGED = [
  'x-forwarded-proto', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-port', 'x-forwarded-server', 'x-forwarded-uri',
  'x-forwarded-method', 'x-forwarded-prefix', 'x-forwarded-tls-client-cert', 'x-forwarded-tls-client-cert-info', 'x-real-ip',
  'x-forwarded-scheme', 'x-scheme',
];

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

/** Hop-by-hop header names of a message: the fixed list plus what its Connection header names. */
export function hopByHop(connection: string | undefined): Set<string> {
  const names = new Set(HOP_BY_HOP);
  for (const n of (connection ?? '').split(',')) if (n.trim()) names.add(n.trim().toLowerCase());
  return names;
}

export function forwardedHeaders(input: ForwardInput): OutgoingHttpHeaders {
  const { headers } = input;
  const drop = hopByHop(headers.connection);
  // the entrypoint already answered 100-continue; the upstream request streams the body at once
  drop.add('expect');
  // Traefik's own headers survive even when Connection names them
  for (const m of MANAGED) drop.delete(m);
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined || drop.has(k)) continue;
    if (!input.trusted && (MANAGED.includes(k) || /^x[-_]forwarded[-_]/.test(k) || k === 'x_real_ip')) continue;
    out[k] = v;
  }
  const ws = isWebSocketUpgrade(headers);
  if (ws) {
    out.connection = 'Upgrade';
    out.upgrade = headers.upgrade;
  }
  const host = headers.host ?? '';
  const hostPort = /:(\d+)$/.exec(host.replace(/^\[[^\]]*\]/, ''))?.[1];
  out['x-forwarded-proto'] ??= ws ? (input.tls ? 'wss' : 'ws') : input.tls ? 'https' : 'http';
  out['x-forwarded-host'] ??= host;
  out['x-forwarded-port'] ??= hostPort ?? (input.tls ? '443' : '80');
  out['x-forwarded-server'] ??= input.serverName;
  out['x-real-ip'] ??= input.clientIp;
  const prior = out['x-forwarded-for'];
  out['x-forwarded-for'] = prior ? `${Array.isArray(prior) ? prior.join(', ') : String(prior)}, ${input.clientIp}` : input.clientIp;
  return out;
}

/** Response headers without hop-by-hop ones (Node frames the response itself). */
export function responseHeaders(headers: Record<string, string | string[] | undefined>): OutgoingHttpHeaders {
  const conn = headers.connection;
  const drop = hopByHop(Array.isArray(conn) ? conn.join(',') : conn);
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !drop.has(k.toLowerCase())) out[k.toLowerCase()] = v;
  return out;
}
