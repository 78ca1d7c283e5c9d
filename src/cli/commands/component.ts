// kemu component start|stop|restart|status [COMPONENT] [--node NODE]: a node's kube-proxy or
// flannel as systemd units on a Kubernetes-the-Hard-Way node (`systemctl stop kube-proxy`). The
// node agent does the work (node-control.ts). Without --node, status asks every node of the
// cluster; the other actions need one node, as systemctl acts on one machine.

import { loadClusterConfig } from '../../api/cluster.js';
import { nodeNames } from '../../cni/topology/names.js';
import type { Command, CommandContext } from '../context.js';
import { CliError } from '../errors.js';
import { isClusterUp } from '../lifecycle.js';
import {
  CONTROL_ACTIONS,
  CONTROLLED_COMPONENTS,
  isControlAction,
  isControlledComponent,
  sendNodeControl,
  type ComponentState,
  type ControlRequest,
} from '../node-control.js';
import { tabwrite, TABLE_LAYOUT } from '../printers/tabwriter.js';

const USAGE = `kemu component ${CONTROL_ACTIONS.join('|')} ${CONTROLLED_COMPONENTS.join('|')} --node NODE`;

/** The request the positionals ask for, or a CliError naming what is wrong. */
export function componentRequest(positionals: string[]): ControlRequest {
  const [action, component, ...rest] = positionals;
  if (action === undefined || !isControlAction(action)) throw new CliError(`unknown action "${action ?? ''}": use ${USAGE}`);
  if (rest.length > 0) throw new CliError(`kemu component ${action} takes one component; got ${[component, ...rest].join(' ')}`);
  if (component === undefined) {
    if (action === 'status') return { action };
    throw new CliError(`kemu component ${action} needs a component: ${CONTROLLED_COMPONENTS.join(' or ')}`);
  }
  if (!isControlledComponent(component)) throw new CliError(`unknown component "${component}": must be one of ${CONTROLLED_COMPONENTS.join(', ')}`);
  return { action, component };
}

/** The states of every node's components, node by node; a node whose agent does not answer gets its error. */
export async function componentStates(cluster: string, nodes: string[], req: ControlRequest): Promise<{ node: string; states: ComponentState[]; error?: string }[]> {
  return Promise.all(
    nodes.map(async (node) => {
      try {
        const r = await sendNodeControl(cluster, node, req);
        return r.ok ? { node, states: r.components } : { node, states: [], error: r.error };
      } catch (e) {
        return { node, states: [], error: (e as Error).message };
      }
    }),
  );
}

export const activeText = (s: ComponentState): string => (s.active ? 'active (running)' : 'inactive (dead)');

export const componentCommand: Command = {
  name: 'component',
  summary: "Start, stop, restart or show a node's kube-proxy and flannel (as systemctl on a node)",
  flags: { node: { kind: 'string' } },
  async run(args, ctx: CommandContext) {
    const req = componentRequest(args.positionals);
    if (!isClusterUp(ctx.cluster)) throw new CliError(`cluster "${ctx.cluster}" is not running`);
    const known = nodeNames(ctx.cluster, loadClusterConfig(ctx.cluster).workers);
    const node = args.string('node');
    if (node !== undefined && !known.includes(node)) throw new CliError(`node "${node}" is not a node of cluster "${ctx.cluster}": ${known.join(', ')}`);
    if (node === undefined && req.action !== 'status') throw new CliError(`kemu component ${req.action} needs --node NODE (one of ${known.join(', ')})`);
    const results = await componentStates(ctx.cluster, node === undefined ? known : [node], req);
    const rows = ['NODE\tCOMPONENT\tSTATE\tSINCE'];
    for (const r of results) for (const s of r.states) rows.push(`${r.node}\t${s.name}\t${activeText(s)}\t${s.since}`);
    ctx.out(tabwrite(`${rows.join('\n')}\n`, TABLE_LAYOUT));
    const failed = results.filter((r) => r.error !== undefined);
    for (const r of failed) ctx.err(`error: ${r.node}: ${r.error}\n`);
    return failed.length > 0 ? 1 : 0;
  },
};
