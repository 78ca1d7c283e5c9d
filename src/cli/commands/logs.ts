// kemu logs POD [-c CONTAINER] [-f] [--tail N]: a container's output from the file the kubelet
// writes at <state>/<cluster>/pods/<namespace>_<pod>/<container>.log.

import fs from 'node:fs';
import path from 'node:path';
import { clusterPaths } from '../../api/cluster.js';
import { RESOURCES } from '../../api/resources.js';
import type { Pod } from '../../api/types.js';
import type { Command, CommandContext } from '../context.js';
import { CliError } from '../errors.js';
import { requireResource } from '../targets.js';

const PODS = RESOURCES.find((r) => r.plural === 'pods')!;
const FOLLOW_POLL_MS = 250;

export function podLogPath(cluster: string, namespace: string, pod: string, container: string): string {
  return path.join(clusterPaths(cluster).dir, 'pods', `${namespace}_${pod}`, `${container}.log`);
}

/** The last n lines of a text (all of it for n < 0), keeping the final newline. */
export function tailLines(text: string, n: number): string {
  if (n < 0) return text;
  if (n === 0) return '';
  const lines = text.split('\n');
  const trailing = lines[lines.length - 1] === '' ? lines.pop() : undefined;
  return lines.slice(-n).join('\n') + (trailing !== undefined ? '\n' : '');
}

function podName(word: string | undefined): string {
  if (!word) throw new CliError('expected POD or TYPE/NAME argument');
  const slash = word.indexOf('/');
  if (slash < 0) return word;
  if (requireResource(word.slice(0, slash)) !== PODS) throw new CliError(`cannot get logs from ${word.slice(0, slash)}: only pods have logs in kemu`);
  return word.slice(slash + 1);
}

function chooseContainer(pod: Pod, requested: string | undefined, ctx: CommandContext): string {
  const names = pod.spec.containers.map((c) => c.name);
  if (requested) {
    if (!names.includes(requested)) throw new CliError(`container ${requested} is not valid for pod ${pod.metadata.name}`);
    return requested;
  }
  if (names.length > 1) ctx.err(`Defaulted container "${names[0]}" out of: ${names.join(', ')}\n`);
  return names[0];
}

/** Print what is appended to the file until interrupted. */
async function follow(file: string, from: number, ctx: CommandContext): Promise<void> {
  let offset = from;
  while (!ctx.signal.aborted) {
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, FOLLOW_POLL_MS);
      ctx.signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
    });
    const size = fs.statSync(file).size;
    if (size < offset) offset = 0; // rotated or truncated
    if (size > offset) {
      const fd = fs.openSync(file, 'r');
      const buf = Buffer.alloc(size - offset);
      fs.readSync(fd, buf, 0, buf.length, offset);
      fs.closeSync(fd);
      ctx.out(buf.toString('utf8'));
      offset = size;
    }
  }
}

export const logsCommand: Command = {
  name: 'logs',
  summary: 'Print the logs for a container in a pod',
  flags: {
    container: { kind: 'string', short: 'c' },
    follow: { kind: 'boolean', short: 'f' },
    tail: { kind: 'string' },
  },
  async run(args, ctx) {
    const name = podName(args.positionals[0]);
    const pod = await ctx.client().get<Pod>(PODS, ctx.namespace, name);
    const container = chooseContainer(pod, args.string('container'), ctx);
    const file = podLogPath(ctx.cluster, ctx.namespace, name, container);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      throw new CliError(`container "${container}" in pod "${name}" has no logs: Pods do not run yet in this kemu cluster (no ${file})`);
    }
    ctx.out(tailLines(text, args.int('tail') ?? -1));
    if (args.bool('follow')) await follow(file, Buffer.byteLength(text), ctx);
    return 0;
  },
};
