// The kemu-cni helper: the plugin's code kept warm inside the node agent. bin/kemu-cni stays the CNI
// executable the runtime execs, but starting Node.js for every ADD costs ~80 ms of CPU, so when the
// helper's address is in its environment (KEMU_CNI_HELPER=127.0.0.1:PORT) the executable — a small
// bash script — hands the call over instead: the CNI_* variables and the config go in, the exit code
// and stdout come back, exactly what the executable itself would print. cilium-cni and Calico's
// plugin hand their calls to their agents the same way. Without a helper the script runs the plugin
// in a Node.js process of its own.
//
// It listens on 127.0.0.1 of the node's network namespace, which only the node's own processes
// reach (Pods have their own loopback). Wire format, one call per connection:
//   KEY=VALUE lines (the CNI_* variables and STDIN_BYTES=<n>), an empty line, n bytes of config;
//   answer: "<exit code>\n" then the plugin's stdout, then the helper closes the connection.

import net from 'node:net';
import { runPlugin } from './plugin.js';

/** The variable the node agent sets so bin/kemu-cni finds the helper. */
export const HELPER_ENV = 'KEMU_CNI_HELPER';

/** The variables a call carries: the CNI ones (the spec's), nothing of the caller's environment. */
const CALL_VARS = new Set(['CNI_COMMAND', 'CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_ARGS', 'CNI_PATH']);

export interface HelperCall {
  env: Record<string, string>;
  stdin: string;
}

const HEADER_END = Buffer.from('\n\n');
/** A config is a few KiB; anything far larger is not a call. */
const MAX_REQUEST_BYTES = 1 << 20;

/** The call in buf; undefined while it is incomplete; throws on a malformed one. */
export function parseHelperCall(buf: Buffer): HelperCall | undefined {
  const end = buf.indexOf(HEADER_END);
  if (end < 0) {
    if (buf.length > MAX_REQUEST_BYTES) throw new Error('request header too long');
    return undefined;
  }
  const env: Record<string, string> = {};
  let length: number | undefined;
  for (const line of buf.subarray(0, end).toString('utf8').split('\n')) {
    const eq = line.indexOf('=');
    if (eq <= 0) throw new Error(`malformed header line ${JSON.stringify(line)}`);
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1);
    if (key === 'STDIN_BYTES') length = /^\d+$/.test(value) ? Number(value) : NaN;
    else if (CALL_VARS.has(key)) env[key] = value;
  }
  if (length === undefined || !Number.isInteger(length) || length > MAX_REQUEST_BYTES) throw new Error('missing or invalid STDIN_BYTES');
  const body = buf.subarray(end + HEADER_END.length);
  if (body.length < length) return undefined;
  return { env, stdin: body.subarray(0, length).toString('utf8') };
}

export interface RunningHelper {
  /** 127.0.0.1:<port>, the value of KEMU_CNI_HELPER. */
  address: string;
  stop(): Promise<void>;
}

/** Serve plugin calls on an ephemeral loopback port of this process's network namespace. */
export async function startCniHelper(log: (message: string) => void): Promise<RunningHelper> {
  const server = net.createServer((socket) => {
    let buf = Buffer.alloc(0);
    let handled = false;
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: Buffer) => {
      if (handled) return;
      buf = Buffer.concat([buf, chunk]);
      let call: HelperCall | undefined;
      try {
        call = parseHelperCall(buf);
      } catch (e) {
        handled = true;
        log(`cni helper: bad request: ${(e as Error).message}`);
        socket.destroy();
        return;
      }
      if (call === undefined) return;
      handled = true;
      runPlugin(call.env, call.stdin).then(
        ({ stdout, exitCode }) => socket.end(`${exitCode}\n${stdout}`),
        (e: unknown) => {
          log(`cni helper: ${(e as Error).message}`);
          socket.destroy();
        },
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
