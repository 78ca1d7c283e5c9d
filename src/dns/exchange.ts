// One query/answer exchange with another DNS server over UDP or TCP, with a deadline. Used by
// forward (upstreams), its health checks and the tests' client.

import { createSocket } from 'node:dgram';
import { connect, isIPv6 } from 'node:net';

export interface Upstream {
  host: string;
  port: number;
}

export class ExchangeError extends Error {}

export function exchangeUdp(to: Upstream, query: Buffer, timeoutMs: number, from?: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = createSocket(isIPv6(to.host) ? 'udp6' : 'udp4');
    const id = query.readUInt16BE(0);
    const done = (err: Error | undefined, buf?: Buffer): void => {
      clearTimeout(timer);
      sock.close();
      if (err) reject(err);
      else resolve(buf!);
    };
    const timer = setTimeout(() => done(new ExchangeError(`read udp ${to.host}:${to.port}: i/o timeout`)), timeoutMs);
    sock.on('error', (e) => done(e));
    sock.on('message', (msg) => {
      if (msg.length >= 2 && msg.readUInt16BE(0) === id) done(undefined, msg);
    });
    const send = (): void => sock.send(query, to.port, to.host, (e) => e && done(e));
    if (from) sock.bind(0, from, send);
    else send();
  });
}

export function exchangeTcp(to: Upstream, query: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: to.host, port: to.port });
    let buf = Buffer.alloc(0);
    const done = (err: Error | undefined, msg?: Buffer): void => {
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(msg!);
    };
    const timer = setTimeout(() => done(new ExchangeError(`read tcp ${to.host}:${to.port}: i/o timeout`)), timeoutMs);
    sock.on('error', (e) => done(e));
    sock.on('connect', () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(query.length);
      sock.write(Buffer.concat([len, query]));
    });
    sock.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) done(undefined, buf.subarray(2, 2 + buf.readUInt16BE(0)));
    });
    sock.on('end', () => done(new ExchangeError(`tcp ${to.host}:${to.port}: connection closed before the answer`)));
  });
}

/** `host`, `host:port`, `[v6]:port` or `dns://...` as an Upstream (port 53 by default). */
export function parseHostPort(text: string, defaultPort = 53): Upstream | undefined {
  const t = text.replace(/^dns:\/\//, '');
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(t);
  if (bracket) return { host: bracket[1]!, port: bracket[2] ? Number(bracket[2]) : defaultPort };
  if (isIPv6(t)) return { host: t, port: defaultPort };
  const m = /^([^:]+)(?::(\d+))?$/.exec(t);
  if (!m) return undefined;
  return { host: m[1]!, port: m[2] ? Number(m[2]) : defaultPort };
}
