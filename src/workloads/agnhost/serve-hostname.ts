// agnhost serve-hostname: answer every HTTP request (or, with --tcp / --udp and --http=false,
// every raw TCP connection or UDP datagram) with the Pod's hostname. kemu exits 0 at SIGTERM
// instead of upstream's 60 s wait for the Pod's deletion.

import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import { parseFlags } from '../flags.js';
import { sendGo } from '../go-http.js';
import { goLog } from '../go-log.js';
import { bindUdp, closeServer, listenTcp, onTermination } from '../lifecycle.js';

const flagSpec = {
  tcp: { kind: 'bool', default: false },
  udp: { kind: 'bool', default: false },
  http: { kind: 'bool', default: true },
  close: { kind: 'bool', default: false },
  port: { kind: 'int', default: 9376 },
} as const;

export async function run(args: string[]): Promise<void> {
  const flags = parseFlags(args, flagSpec);
  if (flags.http && (flags.tcp || flags.udp)) {
    goLog("Can't server TCP/UDP mode and HTTP mode at the same time");
    process.exit(1);
  }
  const hostname = os.hostname();
  const servers: net.Server[] = [];
  onTermination(async (signal) => {
    goLog(`Shutting down after receiving signal: ${signal === 'SIGTERM' ? 'terminated' : 'interrupt'}.`);
    await Promise.all(servers.map((s) => closeServer(s)));
  });

  if (flags.tcp) {
    const server = net.createServer((conn) => conn.end(hostname));
    await listenTcp(server, flags.port);
    servers.push(server);
  }
  if (flags.udp) {
    const socket = await bindUdp(flags.port);
    socket.on('message', (_msg, rinfo) => socket.send(hostname, rinfo.port, rinfo.address));
  }
  if (flags.http) {
    const server = http.createServer((req, res) => {
      if (flags.close) res.setHeader('Connection', 'close');
      sendGo(res, 200, hostname);
    });
    await listenTcp(server, flags.port);
    servers.push(server);
  }
  goLog(`Serving on port ${flags.port}.`);
}
