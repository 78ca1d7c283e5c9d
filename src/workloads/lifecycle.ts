// Start-up and shutdown shared by every built-in server: listen on all addresses the way Go's
// ":port" does (dual-stack where the Pod has IPv6), die with Go's wording when the port is taken,
// and on SIGTERM/SIGINT close gracefully and exit 0 — the kubelet waits for that before SIGKILL.

import type { Server } from 'node:net';
import type { Socket as UdpSocket } from 'node:dgram';
import { goLog } from './go-log.js';

/** Stop accepting, let in-flight requests finish; connections still open after graceMs are cut. */
export function closeServer(server: Server, graceMs = 5000): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => forceClose(server), graceMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    closeIdle(server);
  });
}

function closeIdle(server: Server): void {
  const http = server as Server & { closeIdleConnections?: () => void };
  http.closeIdleConnections?.();
}

function forceClose(server: Server): void {
  const http = server as Server & { closeAllConnections?: () => void };
  http.closeAllConnections?.();
}

/**
 * server.listen(port) on every address; resolves once listening, exits like log.Fatal on failure.
 * HTTP servers keep idle connections open without a time limit, as Go's servers do by default
 * (this also keeps Node's own "Keep-Alive: timeout=5" header out of the responses).
 */
export function listenTcp(server: Server, port: number, host?: string): Promise<void> {
  if ('keepAliveTimeout' in server) server.keepAliveTimeout = 0;
  return new Promise((resolve) => {
    const onError = (err: NodeJS.ErrnoException) => fatalListen('tcp', host, port, err);
    server.once('error', onError);
    server.listen({ port, host }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** Bind a UDP socket to host:port (all addresses, dual-stack when possible). */
export async function bindUdp(port: number, host?: string): Promise<UdpSocket> {
  const dgram = await import('node:dgram');
  const { isIPv6 } = await import('node:net');
  const tryBind = (type: 'udp4' | 'udp6', address: string) =>
    new Promise<UdpSocket>((resolve, reject) => {
      const socket = dgram.createSocket({ type, ipv6Only: false });
      socket.once('error', reject);
      socket.bind(port, address, () => {
        socket.off('error', reject);
        resolve(socket);
      });
    });
  try {
    if (host) return await tryBind(isIPv6(host) ? 'udp6' : 'udp4', host);
    try {
      return await tryBind('udp6', '::');
    } catch (err) {
      // A Pod without IPv6 cannot open an IPv6 socket at all: fall back to IPv4 only.
      if ((err as NodeJS.ErrnoException).code !== 'EAFNOSUPPORT' && (err as NodeJS.ErrnoException).code !== 'EADDRNOTAVAIL') throw err;
      return await tryBind('udp4', '0.0.0.0');
    }
  } catch (err) {
    return fatalListen('udp', host, port, err as NodeJS.ErrnoException);
  }
}

function fatalListen(net: 'tcp' | 'udp', host: string | undefined, port: number, err: NodeJS.ErrnoException): never {
  const reason = err.code === 'EADDRINUSE' ? 'bind: address already in use' : err.code === 'EACCES' ? 'bind: permission denied' : err.message;
  goLog(`listen ${net} ${host ?? ''}:${port}: ${reason}`);
  process.exit(1);
}

/**
 * Run `shutdown` once on the first SIGTERM or SIGINT, then exit with the code it returns
 * (0 unless it says otherwise). A second signal exits at once.
 */
export function onTermination(shutdown: (signal: NodeJS.Signals) => Promise<number | void> | number | void): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(0);
    stopping = true;
    Promise.resolve(shutdown(signal)).then(
      (code) => process.exit(code ?? 0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}

/** Keep the event loop alive while a program only waits for signals. */
export function keepAlive(): void {
  setInterval(() => undefined, 2 ** 31 - 1);
}
