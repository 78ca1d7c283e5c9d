// Reading one value from the live cluster, as a lab's check or question describes it (spec.ts).
// A probe yields the list of values it saw; it throws ProbeError when it cannot see anything
// (a request that fails, a program that exits non-zero, a Pod that does not exist).

import { renderTemplate } from '../cli/jsonpath.js';
import type { Pod } from '../api/types.js';
import type { ExecResult } from '../sys/exec.js';
import type { LabEnv } from './env.js';
import { fixedFault } from './faults.js';
import { expand, nodeName, ProbeError } from './placeholders.js';
import type { CommandOutput, Origin, PodOrigin, Probe } from './spec.js';

const COMMAND_TIMEOUT_MS = 15_000;

async function podFrom(env: LabEnv, origin: PodOrigin): Promise<Pod> {
  const node = origin.node === undefined ? undefined : nodeName(env, origin.node);
  const pod = (await env.pods(origin.pod, origin.namespace)).find((p) => p.status?.phase === 'Running' && (node === undefined || p.spec.nodeName === node));
  if (!pod) throw new ProbeError(`no running Pod matches ${origin.pod}${node ? ` on ${node}` : ''}`);
  return pod;
}

function curlArgv(url: string, timeoutSeconds: number): string[] {
  return ['curl', '-sS', '--max-time', String(timeoutSeconds), url];
}

async function httpGet(env: LabEnv, from: Origin, url: string, timeoutSeconds: number): Promise<string> {
  const argv = curlArgv(url, timeoutSeconds);
  const timeoutMs = (timeoutSeconds + 5) * 1000;
  const r = from === 'host' ? await env.runOnHost(argv, timeoutMs) : await env.runInPod(await podFrom(env, from), argv, timeoutMs);
  const where = from === 'host' ? 'the host' : `a Pod matching ${from.pod}`;
  if (r.code !== 0) throw new ProbeError(`GET ${url} from ${where} failed: ${r.stderr.trim() || `exit code ${r.code}`}`);
  return r.stdout.trim();
}

type CommandProbe = Extract<Probe, { kind: 'nodeCommand' | 'podCommand' | 'hostCommand' }>;

/** Run the probe's program where it says, with placeholders in its argv filled. */
async function runCommand(env: LabEnv, probe: CommandProbe, argv: string[]): Promise<{ r: ExecResult; where: string }> {
  switch (probe.kind) {
    case 'nodeCommand': {
      const node = nodeName(env, probe.node);
      return { r: await env.runOnNode(node, argv, COMMAND_TIMEOUT_MS), where: node };
    }
    case 'podCommand': {
      const pod = await podFrom(env, probe.from);
      return { r: await env.runInPod(pod, argv, COMMAND_TIMEOUT_MS), where: `pod ${pod.metadata.name}` };
    }
    case 'hostCommand':
      return { r: await env.runOnHost(argv, COMMAND_TIMEOUT_MS), where: 'the host' };
  }
}

/** The values a program's output stands for (CommandOutput). */
async function outputValues(env: LabEnv, out: CommandOutput, stdout: string): Promise<string[]> {
  if (out.count !== undefined) {
    const pattern = new RegExp(await expand(env, out.count, 'regex'));
    return [String(stdout.split('\n').filter((line) => pattern.test(line)).length)];
  }
  if (out.capture === undefined) return [stdout.trim()];
  const pattern = new RegExp(await expand(env, out.capture, 'regex'), 'gm');
  const values = [...stdout.matchAll(pattern)].map((m) => m[1] ?? m[0]);
  return out.first ? values.slice(0, 1) : values;
}

async function command(env: LabEnv, probe: CommandProbe): Promise<string[]> {
  const argv = await Promise.all(probe.argv.map((a) => expand(env, a, 'text')));
  const { r, where } = await runCommand(env, probe, argv);
  if (r.code !== 0) throw new ProbeError(`${argv.join(' ')} on ${where} failed: ${r.stderr.trim() || `exit code ${r.code}`}`);
  return outputValues(env, probe, r.stdout);
}

/** Every ordered pair of the selector's Pods that cannot reach each other, as "a -> b (ip)". */
async function meshFailures(env: LabEnv, probe: Extract<Probe, { kind: 'mesh' }>): Promise<string[]> {
  const pods = (await env.pods(probe.selector)).filter((p) => p.status?.phase === 'Running' && p.status.podIP);
  if (pods.length < 2) throw new ProbeError(`fewer than two running Pods match ${probe.selector}`);
  const pairs = pods.flatMap((a) => pods.filter((b) => b !== a).map((b) => [a, b] as const));
  const results = await Promise.all(
    pairs.map(async ([a, b]) => {
      const r = await env.runInPod(a, curlArgv(`http://${b.status!.podIP}:${probe.port}${probe.path}`, 2), 7000);
      return r.code === 0 ? undefined : `${a.metadata.name} (${a.spec.nodeName}) -> ${b.metadata.name} (${b.status!.podIP} on ${b.spec.nodeName})`;
    }),
  );
  return results.filter((x): x is string => x !== undefined);
}

export async function runProbe(env: LabEnv, probe: Probe): Promise<string[]> {
  switch (probe.kind) {
    case 'http':
      return [await httpGet(env, probe.from, await expand(env, probe.url, 'text'), probe.timeoutSeconds)];
    case 'field':
      return [renderTemplate(probe.jsonpath, await env.getObject(probe.resource, await expand(env, probe.name, 'text'), probe.namespace))];
    case 'nodeCommand':
    case 'podCommand':
    case 'hostCommand':
      return command(env, probe);
    case 'mesh':
      return meshFailures(env, probe);
    case 'template':
      return [await expand(env, probe.value, 'text')];
    case 'fault':
      return [await fixedFault(env)];
  }
}
