// Entry point of the kemu-cni executable (bin/kemu-cni): the runtime execs it with CNI_* variables
// and the network config on stdin; the result or error goes to stdout, logs to stderr.

import { runPlugin } from './plugin.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

const started = performance.now();
const { stdout, exitCode } = await runPlugin(process.env, await readStdin());
process.stdout.write(stdout);
if (process.env.KEMU_CNI_TIMING) process.stderr.write(`kemu-cni ${process.env.CNI_COMMAND}: ${(performance.now() - started).toFixed(1)} ms\n`);
process.exitCode = exitCode;
