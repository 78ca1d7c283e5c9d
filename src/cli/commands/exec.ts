// kemu exec POD -- CMD: run a command inside a Pod as `kubectl exec` does — in the Pod's network and
// UTS namespaces, with its resolv.conf and hosts — or, with node/NAME, inside a node's namespace.
// stdin, stdout and stderr are the user's; the exit code is the command's.

import { spawn } from 'node:child_process';
import { clusterPaths } from '../../api/cluster.js';
import { RESOURCES } from '../../api/resources.js';
import type { Pod } from '../../api/types.js';
import { nodeNetnsName } from '../../cni/topology/names.js';
import { execInPodArgv, execOnNodeArgv, findPodRecord } from '../../node/exec.js';
import type { Command } from '../context.js';
import { CliError } from '../errors.js';

const PODS = RESOURCES.find((r) => r.kind === 'Pod')!;

function run(argv: string[], signal: AbortSignal): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: 'inherit' });
    const onAbort = (): void => void child.kill('SIGTERM');
    signal.addEventListener('abort', onAbort, { once: true });
    child.on('error', reject);
    child.on('exit', (code, sig) => {
      signal.removeEventListener('abort', onAbort);
      resolve(code ?? (sig ? 128 + 15 : 1));
    });
  });
}

export const execCommand: Command = {
  name: 'exec',
  summary: 'Run a command in a Pod (or in a node with node/NAME)',
  flags: {
    container: { kind: 'string', short: 'c' },
    stdin: { kind: 'boolean', short: 'i' },
    tty: { kind: 'boolean', short: 't' },
  },
  async run(args, ctx) {
    const [target, ...command] = args.positionals;
    if (!target || command.length === 0) throw new CliError('you must specify a Pod (or node/NAME) and a command after --: kemu exec POD -- CMD');
    if (target.startsWith('node/') || target.startsWith('nodes/')) {
      const node = target.slice(target.indexOf('/') + 1);
      return run(execOnNodeArgv(nodeNetnsName(node), command), ctx.signal);
    }
    const name = target.startsWith('pod/') || target.startsWith('pods/') ? target.slice(target.indexOf('/') + 1) : target;
    const pod = await ctx.client().get<Pod>(PODS, ctx.namespace, name);
    const node = pod.spec.nodeName;
    if (!node || pod.status?.phase !== 'Running') {
      throw new CliError(`unable to upgrade connection: container not found ("${pod.spec.containers[0]?.name ?? name}"): pod ${name} is ${pod.status?.phase ?? 'Pending'}`);
    }
    const found = findPodRecord(clusterPaths(ctx.cluster).dir, [node], pod.metadata.uid ?? '');
    if (!found) throw new CliError(`pod ${name} has no sandbox on node ${node} (is its node agent running?)`);
    return run(execInPodArgv(found.record, command), ctx.signal);
  },
};
