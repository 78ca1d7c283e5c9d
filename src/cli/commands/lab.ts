// kemu lab list | start NN | check NN [--json] | answer NN QUESTION VALUE | reset NN: hands-on labs
// from labs/NN-name/ on a cluster of their own (named `lab` unless --cluster or KEMU_CLUSTER names
// another), graded from the live cluster. labs/README.md documents the verbs and the JSON schema.

import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_CLUSTER_NAME } from '../../api/cluster.js';
import { clientForCluster } from '../../api/http-client.js';
import { answersFile, loadAnswers, saveAnswer } from '../../labs/answers.js';
import { findLab, listLabs, type Lab } from '../../labs/catalog.js';
import { liveLabEnv } from '../../labs/env.js';
import { gradeLab } from '../../labs/grade.js';
import { formatResult, labResult } from '../../labs/result.js';
import { startLab, waitForStartingState } from '../../labs/session.js';
import type { ClusterShape } from '../../labs/spec.js';
import type { Args } from '../args.js';
import { parseArgs } from '../args.js';
import type { Command, CommandContext } from '../context.js';
import { CliError } from '../errors.js';
import { isClusterUp } from '../lifecycle.js';
import { parseManifestText } from '../manifests.js';
import { applyCommand } from './apply.js';

export const LAB_CLUSTER_NAME = 'lab';
const START_TIMEOUT_MS = 120_000;

/** The lab's cluster: --cluster or KEMU_CLUSTER when given, else `lab` (not the default `kemu`). */
function labCluster(ctx: CommandContext): string {
  return ctx.cluster === DEFAULT_CLUSTER_NAME ? LAB_CLUSTER_NAME : ctx.cluster;
}

function shapeOverrides(args: Args): Partial<ClusterShape> {
  const overrides: Partial<ClusterShape> = {};
  const backend = args.string('backend');
  const proxyMode = args.string('proxy-mode');
  if (backend !== undefined) {
    if (!['vxlan', 'host-gw', 'none'].includes(backend)) throw new CliError(`invalid argument "${backend}" for "--backend" flag: must be one of vxlan, host-gw, none`);
    overrides.backend = backend as ClusterShape['backend'];
  }
  if (proxyMode !== undefined) {
    if (!['iptables', 'nftables', 'ipvs'].includes(proxyMode)) throw new CliError(`invalid argument "${proxyMode}" for "--proxy-mode" flag: must be one of iptables, nftables, ipvs`);
    overrides.proxyMode = proxyMode as ClusterShape['proxyMode'];
  }
  return overrides;
}

function deploymentNames(lab: Lab): string[] {
  return lab.spec.manifests.flatMap((m) => {
    const file = path.join(lab.dir, m);
    return parseManifestText(fs.readFileSync(file, 'utf8'), file)
      .filter((o) => o.kind === 'Deployment')
      .map((o) => o.metadata.name ?? '');
  });
}

async function start(lab: Lab, args: Args, ctx: CommandContext, fresh: boolean): Promise<number> {
  const cluster = labCluster(ctx);
  const client = clientForCluster(cluster);
  const labCtx: CommandContext = { ...ctx, cluster, client: () => client, rawGet: (p) => client.raw(p), namespace: 'default', namespaceExplicit: false };
  const env = liveLabEnv(cluster);
  try {
    await startLab(cluster, lab, {
      overrides: shapeOverrides(args),
      underlayCIDR: args.string('underlay-cidr'),
      fresh,
      apply: async (file) => {
        const code = await applyCommand.run(parseArgs(['-f', file], applyCommand.flags ?? {}), labCtx);
        if (code !== 0) throw new CliError(`applying ${file} failed`);
      },
      log: (line) => ctx.out(`${line}\n`),
    });
    ctx.out('Waiting for the lab\'s Pods to be Ready ...\n');
    await waitForStartingState(env, deploymentNames(lab), START_TIMEOUT_MS);
  } finally {
    env.close();
    client.close();
  }
  const c = cluster === LAB_CLUSTER_NAME ? '' : ` --cluster ${cluster}`;
  ctx.out(
    [
      `Lab ${lab.name} is ready on cluster "${cluster}": ${lab.spec.title}.`,
      `Follow labs/${lab.name}/README.md (its commands talk to this cluster once you ran: export KEMU_CLUSTER=${cluster}).`,
      `Grade your work with: kemu${c} lab check ${lab.number}`,
      '',
    ].join('\n'),
  );
  return 0;
}

async function check(lab: Lab, args: Args, ctx: CommandContext): Promise<number> {
  const cluster = labCluster(ctx);
  if (!isClusterUp(cluster)) throw new CliError(`cluster "${cluster}" is not running: start the lab with kemu lab start ${lab.number}`);
  const answers = loadAnswers(args.string('answers') ?? answersFile(lab.number));
  const env = liveLabEnv(cluster);
  try {
    const result = labResult(lab.name, lab.spec.title, cluster, await gradeLab(env, lab.spec, answers));
    ctx.out(args.bool('json') ? `${JSON.stringify(result, null, 2)}\n` : formatResult(result));
    return result.passed ? 0 : 1;
  } finally {
    env.close();
  }
}

function answer(lab: Lab, rest: string[], args: Args, ctx: CommandContext): number {
  const [question, ...words] = rest;
  const ids = lab.spec.questions.map((q) => q.id);
  if (!question || words.length === 0) throw new CliError(`usage: kemu lab answer ${lab.number} QUESTION VALUE (questions: ${ids.join(', ') || 'none'})`);
  if (!ids.includes(question)) throw new CliError(`lab ${lab.name} has no question "${question}"; its questions are: ${ids.join(', ')}`);
  const file = args.string('answers') ?? answersFile(lab.number);
  saveAnswer(file, question, words.join(' '));
  ctx.out(`Saved answer to ${question} in ${file}\n`);
  return 0;
}

function list(ctx: CommandContext): number {
  const labs = listLabs();
  const width = Math.max(...labs.map((l) => l.name.length)) + 2;
  ctx.out(`${'LAB'.padEnd(width)}${'CLUSTER'.padEnd(34)}TITLE\n`);
  for (const l of labs) {
    const shape = `${l.spec.cluster.workers + 1} nodes, ${l.spec.cluster.backend}, ${l.spec.cluster.proxyMode}`;
    ctx.out(`${l.name.padEnd(width)}${shape.padEnd(34)}${l.spec.title}\n`);
  }
  return 0;
}

const USAGE = 'usage: kemu lab list | start NN | check NN [--json] [--answers FILE] | answer NN QUESTION VALUE | reset NN';

export const labCommand: Command = {
  name: 'lab',
  summary: 'Hands-on labs: list, start NN, check NN [--json], answer NN QUESTION VALUE, reset NN',
  flags: {
    json: { kind: 'boolean' },
    answers: { kind: 'string' },
    backend: { kind: 'string' },
    'proxy-mode': { kind: 'string' },
    'underlay-cidr': { kind: 'string' },
  },
  async run(args, ctx) {
    const [verb, id, ...rest] = args.positionals;
    if (verb === 'list') return list(ctx);
    if (!verb || !id) throw new CliError(USAGE);
    const lab = (() => {
      try {
        return findLab(id);
      } catch (e) {
        throw new CliError((e as Error).message);
      }
    })();
    switch (verb) {
      case 'start':
        return start(lab, args, ctx, false);
      case 'reset':
        return start(lab, args, ctx, true);
      case 'check':
        return check(lab, args, ctx);
      case 'answer':
        return answer(lab, rest, args, ctx);
      default:
        throw new CliError(USAGE);
    }
  },
};
