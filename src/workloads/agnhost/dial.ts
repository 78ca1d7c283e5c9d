// netexec's /dial: from inside the Pod, send `request` to host:port over HTTP or UDP `tries`
// times and report what came back — the probe Kubernetes' own e2e tests use to check Services.
// Each try opens a new connection (Go closes idle connections after each), 5 s timeout.

import { lookup } from 'node:dns/promises';
import http from 'node:http';
import { isIP } from 'node:net';
import { goHostPort } from '../go-http.js';

const timeoutMs = 5000;

export type DialProtocol = 'http' | 'udp';

export interface DialOutcome {
  status: 200 | 400;
  /** JSON body ({"responses":[…]} / {"errors":[…]}) for 200, the http.Error text for 400. */
  body: string;
}

export interface DialParams {
  host: string;
  port: string;
  request: string;
  protocol: string;
  tries: string;
}

export async function dial(params: DialParams): Promise<DialOutcome> {
  let tries = 1;
  if (params.tries !== '') {
    if (!/^[+-]?\d+$/.test(params.tries)) {
      return bad(`tries parameter is invalid. strconv.Atoi: parsing "${params.tries}": invalid syntax`);
    }
    tries = Number.parseInt(params.tries, 10);
  }
  if (params.request === '') return bad('request parameter not specified. <nil>');
  const protocol = params.protocol.toLowerCase();
  if (protocol !== '' && protocol !== 'http' && protocol !== 'udp') {
    return bad(`unsupported protocol. ${params.protocol}`);
  }
  const port = Number(params.port);
  if (!/^\d+$/.test(params.port) || port > 65535) {
    return bad(`host and/or port param are invalid. address ${params.port}: invalid port`);
  }
  let address: string;
  try {
    address = await resolve(params.host);
  } catch {
    return bad(`host and/or port param are invalid. lookup ${params.host}: no such host`);
  }
  const once = protocol === 'udp' ? dialUdp : dialHttp;
  const responses: string[] = [];
  const errors: string[] = [];
  let last = '';
  for (let i = 0; i < tries; i++) {
    try {
      last = await once(params.request, address, port);
      responses.push(last);
    } catch (err) {
      last = '';
      errors.push((err as Error).message);
    }
  }
  // Upstream lists the responses only when the last try returned something non-empty.
  const output: { errors?: string[]; responses?: string[] } = {};
  if (errors.length > 0) output.errors = errors;
  if (last.length > 0) output.responses = responses;
  return { status: 200, body: JSON.stringify(output) };
}

function bad(message: string): DialOutcome {
  return { status: 400, body: message };
}

/** Go's ResolveTCPAddr takes the first IPv4 address of a name, else the first IPv6 one. */
async function resolve(host: string): Promise<string> {
  if (host === '' || isIP(host)) return host || '127.0.0.1';
  const all = await lookup(host, { all: true });
  const chosen = all.find((a) => a.family === 4) ?? all[0];
  if (!chosen) throw new Error('no such host');
  return chosen.address;
}

function dialHttp(request: string, address: string, port: number): Promise<string> {
  const target = goHostPort(address, port);
  const url = `http://${target}/${request}`;
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs, headers: { 'User-Agent': 'Go-http-client/1.1' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks).toString()));
      res.on('error', (err) => reject(new Error(`Get "${url}": ${err.message}`)));
    });
    req.on('timeout', () => {
      req.destroy(new Error(`Get "${url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`));
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      reject(err.message.startsWith('Get "') ? err : new Error(`Get "${url}": ${goDialError(target, err)}`));
    });
  });
}

function goDialError(target: string, err: NodeJS.ErrnoException): string {
  const reasons: Record<string, string> = {
    ECONNREFUSED: 'connect: connection refused',
    EHOSTUNREACH: 'connect: no route to host',
    ENETUNREACH: 'connect: network is unreachable',
    ECONNRESET: 'read: connection reset by peer',
  };
  return `dial tcp ${target}: ${reasons[err.code ?? ''] ?? err.message}`;
}

async function dialUdp(request: string, address: string, port: number): Promise<string> {
  const dgram = await import('node:dgram');
  const socket = dgram.createSocket(address.includes(':') ? 'udp6' : 'udp4');
  try {
    return await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        const local = socket.address();
        reject(new Error(`reading from udp connection failed. err:'read udp ${goHostPort(local.address, local.port)}->${goHostPort(address, port)}: i/o timeout'`));
      }, timeoutMs);
      socket.on('message', (msg) => {
        clearTimeout(timer);
        resolve(msg.toString());
      });
      // A refused port shows up as an ICMP error on the connected socket.
      socket.on('error', () => {
        clearTimeout(timer);
        const local = socket.address();
        reject(new Error(`reading from udp connection failed. err:'read udp ${goHostPort(local.address, local.port)}->${goHostPort(address, port)}: read: connection refused'`));
      });
      socket.connect(port, address, () => {
        socket.send(request, (err) => {
          if (err) {
            clearTimeout(timer);
            reject(new Error(`udp connection write failed. err:${err.message}`));
          }
        });
      });
    });
  } finally {
    socket.close();
  }
}
