// traefik/whoami: prints who answered (hostname, the Pod's IPs) and the request as received.
// Paths as upstream: / (text, ?wait= and ?env=true), /api (JSON), /bench, /data?size=&unit=,
// /health (GET answers the code set by POSTing one). The /echo WebSocket and TLS client
// certificates are not offered.

import fs from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import os from 'node:os';
import { parseFlags, parseGoBool } from './flags.js';
import { goError, goJson, goRequestHeader, queryParams, readBody, redirectUncleanPath, remoteAddr, requestPath, sendGo } from './go-http.js';
import { goRequestDump } from './go-request-dump.js';
import { parseGoDuration } from './go-duration.js';
import { goLog } from './go-log.js';
import { closeServer, listenTcp, onTermination } from './lifecycle.js';

function flagSpec(env: NodeJS.ProcessEnv) {
  return {
    port: { kind: 'string', default: env.WHOAMI_PORT_NUMBER || '80' },
    name: { kind: 'string', default: env.WHOAMI_NAME ?? '' },
    cert: { kind: 'string', default: '' },
    key: { kind: 'string', default: '' },
    cacert: { kind: 'string', default: '' },
    verbose: { kind: 'bool', default: false },
    'allowed-origins': { kind: 'string', default: env.WHOAMI_ALLOWED_ORIGINS || '*' },
  } as const;
}

type Flags = ReturnType<typeof parseWhoamiFlags>;

function parseWhoamiFlags(args: string[]) {
  return parseFlags(args, flagSpec(process.env));
}

export async function run(args: string[]): Promise<void> {
  const flags = parseWhoamiFlags(args);
  const health = { status: 200 };
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res, flags, health).catch(() => res.destroy());
  };
  const tls = flags.cert !== '' && flags.key !== '';
  const server = tls
    ? (await import('node:https')).createServer({ cert: fs.readFileSync(flags.cert), key: fs.readFileSync(flags.key) }, listener)
    : http.createServer(listener);
  onTermination(() => closeServer(server));
  await listenTcp(server, Number(flags.port));
  goLog(tls ? `Starting up with TLS on port ${flags.port}` : `Starting up on port ${flags.port}`);
}

async function handle(req: IncomingMessage, res: ServerResponse, flags: Flags, health: { status: number }): Promise<void> {
  const body = await readBody(req);
  const path = requestPath(req);
  if (redirectUncleanPath(req, res, path)) return;
  switch (path) {
    case '/api':
      res.setHeader('Access-Control-Allow-Origin', flags['allowed-origins']);
      res.setHeader('Access-Control-Allow-Methods', '*');
      return api(req, res, flags);
    case '/bench':
      res.setHeader('Connection', 'keep-alive');
      res.setHeader('Content-Type', 'text/plain');
      return sendGo(res, 200, '1');
    case '/data':
      return data(req, res);
    case '/health':
      return healthCheck(req, res, body, health);
    default:
      return whoami(req, res, body, flags);
  }
}

async function whoami(req: IncomingMessage, res: ServerResponse, body: Buffer, flags: Flags): Promise<void> {
  const query = queryParams(req);
  const wait = parseGoDuration(query.get('wait') ?? '');
  if (wait !== undefined && wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  let out = '';
  if (flags.name !== '') out += `Name: ${flags.name}\n`;
  out += `Hostname: ${os.hostname()}\n`;
  for (const ip of interfaceIPs()) out += `IP: ${ip}\n`;
  out += `RemoteAddr: ${remoteAddr(req)}\n`;
  out += goRequestDump(req, body);
  if (parseGoBool(query.get('env') ?? '')) {
    for (const [k, v] of Object.entries(process.env)) out += `${k}=${v}\n`;
  }
  sendGo(res, 200, out);
}

function api(req: IncomingMessage, res: ServerResponse, flags: Flags): void {
  const environ: Record<string, string> = {};
  if (parseGoBool(queryParams(req).get('env') ?? '')) {
    for (const k of Object.keys(process.env).sort()) environ[k] = process.env[k] ?? '';
  }
  // Field order and omitempty as in whoami's Data struct.
  const ips = interfaceIPs();
  const headers = goRequestHeader(req);
  const doc = {
    hostname: os.hostname() || undefined,
    ip: ips.length > 0 ? ips : undefined,
    headers: Object.keys(headers).length > 0 ? headers : undefined,
    url: req.url || undefined,
    host: req.headers.host || undefined,
    method: req.method || undefined,
    name: flags.name || undefined,
    remoteAddr: remoteAddr(req),
    environ: Object.keys(environ).length > 0 ? environ : undefined,
  };
  res.setHeader('Content-Type', 'application/json');
  sendGo(res, 200, `${goJson(doc)}\n`);
}

async function data(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const query = queryParams(req);
  const sizeText = query.get('size') ?? '';
  let size = /^[+-]?\d+$/.test(sizeText) ? Number.parseInt(sizeText, 10) : 1;
  if (size < 0) size = 0;
  const units: Record<string, number> = { kb: 2 ** 10, mb: 2 ** 20, gb: 2 ** 30, tb: 2 ** 40 };
  size *= units[(query.get('unit') ?? '').toLowerCase()] ?? 1;
  if (parseGoBool(query.get('attachment') ?? '')) res.setHeader('Content-Disposition', 'Attachment');
  const { writeContent } = await import('./whoami-content.js');
  await writeContent(res, size);
}

function healthCheck(req: IncomingMessage, res: ServerResponse, body: Buffer, health: { status: number }): void {
  if (req.method !== 'POST') return sendGo(res, health.status);
  const text = body.toString().trim();
  if (!/^-?\d+$/.test(text)) {
    return goError(res, 400, text === '' ? 'EOF' : `invalid character '${text[0]}' looking for beginning of value`);
  }
  health.status = Number.parseInt(text, 10);
  process.stdout.write(`Update health check status code [${health.status}]\n`);
  sendGo(res, 200);
}

/** Every address of every interface, in interface order, as Go's net.Interfaces lists them. */
function interfaceIPs(): string[] {
  return Object.values(os.networkInterfaces()).flatMap((addrs) => (addrs ?? []).map((a) => a.address));
}
