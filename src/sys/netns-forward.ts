// Listening on a TCP port inside another network namespace. A Node.js process cannot switch its own
// namespace, so a small forwarder runs there (nsenter) and pipes every connection to a Unix socket
// served by this process. The forwarder exits when its stdin closes, so it never outlives us.

import { spawn, type ChildProcess } from 'node:child_process';
import { argvIn, type Netns } from './netns.js';

const FORWARDER = `
const net = require('node:net');
const [port, host, socketPath] = process.argv.slice(1);
const server = net.createServer((c) => {
  const u = net.connect(socketPath);
  c.on('error', () => u.destroy());
  u.on('error', () => c.destroy());
  c.pipe(u).pipe(c);
});
server.on('error', (e) => { console.error(e.message); process.exit(1); });
server.listen(Number(port), host, () => process.stdout.write('ready\\n'));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
`;

export interface TcpForwarder {
  pid: number;
  stop(): Promise<void>;
}

/** Forwards host:port inside ns to socketPath; resolves once the port is listening. */
export function forwardTcpToUnix(ns: Netns, host: string, port: number, socketPath: string): Promise<TcpForwarder> {
  const [cmd, args] = argvIn(ns, process.execPath, ['-e', FORWARDER, String(port), host, socketPath]);
  const child: ChildProcess = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let stderr = '';
    const timer = setTimeout(() => fail(new Error(`forwarder for ${host}:${port} in ${ns} did not start in 10 s`)), 10_000);
    function fail(e: Error): void {
      clearTimeout(timer);
      // After a timeout the kill makes 'exit' call fail() again: signal only a child still running.
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      reject(e);
    }
    child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', fail);
    child.on('exit', (code) => fail(new Error(`forwarder for ${host}:${port} in ${ns} exited (${code}): ${stderr.trim()}`)));
    child.stdout?.once('data', () => {
      clearTimeout(timer);
      child.removeAllListeners('exit');
      resolve({
        pid: child.pid as number,
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done();
            child.once('exit', () => done());
            child.stdin?.end();
            child.kill('SIGTERM');
          }),
      });
    });
  });
}
