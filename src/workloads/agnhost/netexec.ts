// agnhost netexec: the HTTP + UDP test server Kubernetes' e2e suite runs in Pods. Endpoints and
// answers follow test/images/agnhost/netexec; kemu differs in that SIGTERM closes gracefully and
// exits 0 (after --delay-shutdown seconds, still serving, when that flag is set), that SCTP and
// /upload are not offered, and that requests are not logged one by one.

import fs from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import os from 'node:os';
import { parseFlags } from '../flags.js';
import {
  formValue, goError, goJson, goRedirect, goRequestHeader, readBody, redirectUncleanPath, remoteAddr,
  queryParams, requestPath, sendGo, canonicalHeaderKey, goHostPort,
} from '../go-http.js';
import { parseGoDuration } from '../go-duration.js';
import { goLog } from '../go-log.js';
import { goTimeString, nowNs } from '../go-time.js';
import { bindUdp, closeServer, listenTcp, onTermination } from '../lifecycle.js';

const flagSpec = {
  'http-port': { kind: 'int', default: 8080 },
  'udp-port': { kind: 'int', default: 8081 },
  'sctp-port': { kind: 'int', default: -1 },
  'tls-cert-file': { kind: 'string', default: '' },
  'tls-private-key-file': { kind: 'string', default: '' },
  'http-override': { kind: 'string', default: '' },
  'udp-listen-addresses': { kind: 'string', default: '' },
  'delay-shutdown': { kind: 'int', default: 0 },
} as const;

type Handler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void | Promise<void>;

interface State {
  /** /healthz: true once a UDP server is up (upstream: stays false when UDP is disabled). */
  udpReady: boolean;
  server?: http.Server;
}

export async function run(args: string[]): Promise<void> {
  const flags = parseFlags(args, flagSpec);
  const state: State = { udpReady: false };
  const routes = buildRoutes(state);
  const override = flags['http-override'];

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readBody(req);
    if (override !== '') {
      req.method = 'GET';
      req.url = override;
    }
    const path = requestPath(req);
    if (redirectUncleanPath(req, res, path)) return;
    await (routes.get(path) ?? rootHandler)(req, res, body);
  };
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch(() => res.destroy());
  };

  const server = flags['tls-cert-file']
    ? (await import('node:https')).createServer(
        { cert: fs.readFileSync(flags['tls-cert-file']), key: fs.readFileSync(flags['tls-private-key-file'] || flags['tls-cert-file']) },
        listener,
      )
    : http.createServer(listener);
  state.server = server;

  // Handlers first: the start-up line tells the kubelet (and tests) that signals are safe to send.
  const delay = flags['delay-shutdown'];
  onTermination(async () => {
    if (delay > 0) {
      goLog(`Sleeping ${delay} seconds before terminating...`);
      await sleep(delay * 1000);
      return 0;
    }
    await closeServer(server);
    return 0;
  });

  if (flags['udp-port'] !== -1) {
    const addresses = flags['udp-listen-addresses'] ? flags['udp-listen-addresses'].split(',') : [undefined];
    for (const address of addresses) {
      const socket = await bindUdp(flags['udp-port'], address);
      socket.on('message', (msg, rinfo) => {
        const reply = udpReply(msg.toString(), goHostPort(rinfo.address, rinfo.port));
        if (reply !== undefined) socket.send(reply, rinfo.port, rinfo.address);
      });
      goLog(`Started UDP server on port ${address ?? ''} ${flags['udp-port']}`);
      state.udpReady = true;
    }
  }
  if (flags['sctp-port'] !== -1) goLog('SCTP is not supported by kemu; --sctp-port ignored');

  await listenTcp(server, flags['http-port']);
  goLog(`Started HTTP server on port ${flags['http-port']}`);

}

/** The answer netexec's UDP server gives to one datagram; undefined means no reply. */
export function udpReply(datagram: string, clientAddress: string): string | undefined {
  // Upstream lower-cases the whole command, so "echo Hi" answers "hi".
  const text = datagram.trim().toLowerCase();
  if (text === 'hostname') return os.hostname();
  if (text.startsWith('echo ')) return text.slice(5);
  if (text === 'clientip') return clientAddress;
  return undefined;
}

function buildRoutes(state: State): Map<string, Handler> {
  const hostname: Handler = (_req, res) => sendGo(res, 200, os.hostname());
  return new Map<string, Handler>([
    ['/', rootHandler],
    ['/clientip', (req, res) => sendGo(res, 200, remoteAddr(req))],
    ['/dial', dialHandler],
    ['/echo', echoHandler],
    ['/exit', (req, res, body) => exitHandler(req, res, body, state)],
    ['/healthz', (_req, res) => sendGo(res, state.udpReady ? 200 : 412)],
    ['/hostname', hostname],
    ['/hostName', hostname],
    ['/header', headerHandler],
    ['/redirect', redirectHandler],
    ['/shell', shellHandler],
    ['/shutdown', () => process.exit(0)],
  ]);
}

function rootHandler(_req: IncomingMessage, res: ServerResponse): void {
  sendGo(res, 200, `NOW: ${goTimeString(nowNs(), process.uptime())}`);
}

function echoHandler(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
  const msg = formValue(req, body, 'msg');
  const code = formValue(req, body, 'code');
  if (code === '') return sendGo(res, 200, msg);
  if (!/^[+-]?\d+$/.test(code)) return sendGo(res, 200, `argument 'code' must be an integer or empty, got ${JSON.stringify(code)}\n`);
  const status = Number.parseInt(code, 10);
  // Go panics on a status outside 100-999, which aborts the connection.
  if (status < 100 || status > 999) return void res.destroy();
  sendGo(res, status, msg);
}

async function dialHandler(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { dial } = await import('./dial.js');
  const q = queryParams(req);
  const outcome = await dial({
    host: q.get('host') ?? '',
    port: q.get('port') ?? '',
    request: q.get('request') ?? '',
    protocol: q.get('protocol') ?? '',
    tries: q.get('tries') ?? '',
  });
  if (outcome.status === 400) return goError(res, 400, outcome.body);
  sendGo(res, 200, outcome.body);
}

async function exitHandler(req: IncomingMessage, res: ServerResponse, body: Buffer, state: State): Promise<void> {
  const waitText = formValue(req, body, 'wait');
  const timeoutText = formValue(req, body, 'timeout');
  const codeText = formValue(req, body, 'code');
  const timeout = timeoutText === '' ? 0 : parseGoDuration(timeoutText);
  if (timeout === undefined) {
    return sendGo(res, 200, `argument 'timeout' must be a valid golang duration or empty, got ${JSON.stringify(timeoutText)}\n`);
  }
  const wait = waitText === '' ? 0 : parseGoDuration(waitText);
  if (wait === undefined) {
    return sendGo(res, 200, `argument 'wait' must be a valid golang duration or empty, got ${JSON.stringify(waitText)}\n`);
  }
  if (codeText !== '' && !/^[+-]?\d+$/.test(codeText)) {
    return sendGo(res, 200, `argument 'code' must be an integer [0-127] or empty, got ${JSON.stringify(codeText)}\n`);
  }
  const code = codeText === '' ? 0 : Number.parseInt(codeText, 10);
  goLog(`Will begin shutdown in ${waitText || '0s'}, allowing ${timeoutText || '0s'} for connections to close, then will exit with ${code}`);
  await sleep(Math.max(0, wait));
  // Without a timeout upstream exits on the spot: the caller sees its connection drop.
  if (timeout <= 0) process.exit(code);
  sendGo(res, 200);
  if (state.server) await closeServer(state.server, timeout);
  goLog('Graceful shutdown completed with: <nil>');
  process.exit(code);
}

function headerHandler(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
  const key = formValue(req, body, 'key');
  const header = goRequestHeader(req);
  if (key === '') return sendGo(res, 200, goJson(header));
  sendGo(res, 200, header[canonicalHeaderKey(key)]?.[0] ?? '');
}

function redirectHandler(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
  const location = formValue(req, body, 'location');
  const codeText = formValue(req, body, 'code');
  if (codeText !== '' && !/^[+-]?\d+$/.test(codeText)) {
    return sendGo(res, 200, `argument 'code' must be an integer or empty, got ${JSON.stringify(codeText)}\n`);
  }
  goRedirect(req, res, location, codeText === '' ? 302 : Number.parseInt(codeText, 10));
}

async function shellHandler(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
  const cmd = formValue(req, body, 'shellCommand') || formValue(req, body, 'cmd');
  const { runShell } = await import('./shell.js');
  const result = await runShell(cmd);
  const output: { error?: string; output?: string } = {};
  if (result.error) output.error = result.error;
  if (result.output.length > 0) output.output = result.output;
  sendGo(res, 200, goJson(output));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
