// Bringing a cluster up and down on this host: the underlay (bridge + node namespaces), the
// control-plane process, and one node agent per node inside its namespace. Every step is recorded
// in the state directory first, so `down` undoes it also after a crash or kill -9.

import fs from 'node:fs';
import path from 'node:path';
import { clusterPaths, saveClusterConfig, type ClusterConfig } from '../api/cluster.js';
import { HttpClient } from '../api/http-client.js';
import { RESOURCES } from '../api/resources.js';
import type { Node } from '../api/types.js';
import { recordResource } from '../cni/topology/ledger.js';
import { nodeNames } from '../cni/topology/names.js';
import { teardownCluster } from '../cni/topology/teardown.js';
import { hostProblem } from '../cni/topology/host-checks.js';
import { createUnderlay, type NodeUnderlay } from '../cni/topology/underlay.js';
import { netnsPath } from '../sys/netns.js';
import { ipvsSupported } from '../sys/ipvs.js';
import { runningPid, spawnDaemon, stopProcess } from '../sys/process.js';
import { applyAddons, waitForAddons } from './addons/apply.js';
import { CliError } from './errors.js';

/** Cluster names become parts of namespace, link and chain names, so they follow RFC 1123 labels. */
const CLUSTER_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const MAX_CLUSTER_NAME = 20;
const NODES = RESOURCES.find((r) => r.kind === 'Node')!;

export function checkClusterName(name: string): void {
  if (!CLUSTER_NAME.test(name) || name.length > MAX_CLUSTER_NAME) {
    throw new CliError(
      `invalid cluster name "${name}": must be a lowercase RFC 1123 label of at most ${MAX_CLUSTER_NAME} characters ` +
        `(it becomes part of namespace and interface names)`,
    );
  }
}

export function isClusterUp(cluster: string): boolean {
  return runningPid(clusterPaths(cluster).controlPlanePid) !== undefined;
}

/** The command line that re-runs this same kemu entry point (built JS, or TS under tsx in tests). */
function selfCommand(args: string[]): string[] {
  return [process.execPath, ...process.execArgv, process.argv[1], ...args];
}

function agentPidFile(cluster: string, node: string): string {
  return path.join(clusterPaths(cluster).dir, 'nodes', node, 'agent.pid');
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function logTail(file: string, lines = 15): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Proxy modes this host can run; the error names the ones that work. */
/** IPVS needs kernel features this host may lack; say which, and which modes work instead. */
async function checkProxyMode(mode: ClusterConfig['proxyMode']): Promise<void> {
  if (mode !== 'ipvs') return;
  // No modprobe: loading kernel modules would change the host; the reason says what to load.
  const support = await ipvsSupported({ modprobe: false });
  if (!support.ok) {
    throw new CliError(`--proxy-mode ipvs cannot work on this host: ${support.reason}; use --proxy-mode iptables or --proxy-mode nftables`);
  }
}

/** Root, /run, the programs and the kernel features this config needs — before anything is made. */
async function checkHost(config: ClusterConfig): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw new CliError('kemu up must run as root: it creates network namespaces, links and rules (try: sudo kemu up)');
  }
  if (!fs.existsSync('/run/netns') && !fs.existsSync('/run')) throw new CliError('/run is missing: cannot register network namespaces');
  const problem = await hostProblem(config);
  if (problem !== undefined) throw new CliError(`${problem}`);
}

/**
 * How long each step of `up` took and when it started (steps overlap), written to logs/up.log
 * (bench/cluster.ts prints it).
 */
class PhaseTimer {
  readonly phases: { phase: string; ms: number; at: number }[] = [];
  private readonly start = performance.now();

  async time<T>(phase: string, step: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      return await step();
    } finally {
      this.phases.push({ phase, ms: Math.round(performance.now() - t0), at: Math.round(t0 - this.start) });
    }
  }

  write(file: string): void {
    const total = Math.round(performance.now() - this.start);
    const lines = this.phases.map((p) => `${p.phase} ${p.ms}ms (from +${p.at}ms)\n`);
    fs.writeFileSync(file, [...lines, `total ${total}ms\n`].join(''));
  }
}

function startControlPlane(config: ClusterConfig): void {
  const paths = clusterPaths(config.name);
  const [command, ...args] = selfCommand(['control-plane', '--cluster', config.name]);
  const pid = spawnDaemon({ command, args, logFile: controlPlaneLog(config.name), pidFile: paths.controlPlanePid });
  recordResource(paths.dir, { kind: 'pid', name: String(pid) });
}

function controlPlaneLog(cluster: string): string {
  return path.join(clusterPaths(cluster).logDir, 'control-plane.log');
}

async function waitForApi(config: ClusterConfig): Promise<void> {
  const paths = clusterPaths(config.name);
  const logFile = controlPlaneLog(config.name);
  const client = new HttpClient({ socketPath: paths.apiSocket });
  try {
    await waitFor('the API server', 15_000, async () => {
      if (!isClusterUp(config.name)) throw new Error(`the control-plane process exited\n${logTail(logFile)}`);
      return client.raw('/version');
    });
  } finally {
    client.close();
  }
}

function startNodeAgent(config: ClusterConfig, node: NodeUnderlay): void {
  const paths = clusterPaths(config.name);
  const kemu = selfCommand(['node-agent', '--cluster', config.name, '--node', node.node, '--node-ip', node.ip]);
  // nsenter puts the agent (and so its kubelet, flannel and kube-proxy) in the node's network
  // namespace only. Not `ip netns exec`: its private mount namespace would hide the Pod namespaces
  // and hostname mounts the kubelet creates from the host (and from `ip netns`, `kemu exec`).
  const pid = spawnDaemon({
    command: 'nsenter',
    args: [`--net=${netnsPath(node.netns)}`, '--', ...kemu],
    logFile: path.join(paths.logDir, `${node.node}.log`),
    pidFile: agentPidFile(config.name, node.node),
  });
  recordResource(paths.dir, { kind: 'pid', name: String(pid) });
}

async function waitForReadyNodes(config: ClusterConfig, names: string[], timeoutMs: number): Promise<void> {
  const client = new HttpClient({ socketPath: clusterPaths(config.name).apiSocket });
  try {
    await waitFor(`nodes ${names.join(', ')} to be Ready`, timeoutMs, async () => {
      const nodes = (await client.list<Node>(NODES)).items;
      const ready = (n: string) =>
        nodes.find((x) => x.metadata.name === n)?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
      const networkUp = (n: string) =>
        nodes.find((x) => x.metadata.name === n)?.status?.conditions?.some((c) => c.type === 'NetworkUnavailable' && c.status === 'False') ?? false;
      return names.every((n) => ready(n) && networkUp(n)) ? true : undefined;
    });
  } finally {
    client.close();
  }
}

export interface UpResult {
  nodes: NodeUnderlay[];
  warnings: string[];
}

/** Build a new cluster and return once every node is Ready; on any failure nothing is left behind. */
export async function up(config: ClusterConfig): Promise<UpResult> {
  checkClusterName(config.name);
  await checkProxyMode(config.proxyMode);
  const timer = new PhaseTimer();
  await timer.time('host checks', () => checkHost(config));
  const paths = clusterPaths(config.name);
  if (isClusterUp(config.name) || fs.existsSync(paths.dir)) {
    throw new CliError(
      isClusterUp(config.name)
        ? `cluster "${config.name}" is already up (kemu down --cluster ${config.name} removes it)`
        : `cluster "${config.name}" has state in ${paths.dir} from an earlier run: remove it with kemu down --cluster ${config.name}`,
    );
  }
  fs.mkdirSync(paths.logDir, { recursive: true });
  try {
    saveClusterConfig(config);
    const names = nodeNames(config.name, config.workers);
    const underlay = await timer.time('underlay (bridge, node namespaces, veths, sysctls)', () => createUnderlay(config, names, paths.dir));
    // Node agents start together with the control plane: Node.js start-up of each overlaps the
    // API server's, and each agent waits for the API socket on its own.
    startControlPlane(config);
    for (const node of underlay.nodes) startNodeAgent(config, node);
    await timer.time('control plane answering', () => waitForApi(config));
    const warnings = [...underlay.warnings];
    const client = new HttpClient({ socketPath: paths.apiSocket });
    try {
      // The add-ons go in while the nodes come up: the scheduler binds their Pods the moment a node
      // is Ready, so the nodes' start and the add-ons' start overlap instead of adding up.
      // allSettled: a failed apply must not leave the node wait polling after the cleanup
      const steps = await Promise.allSettled([
        timer.time('add-on manifests applied', () => applyAddons(client, config)),
        timer.time('nodes Ready (kubelet, podCIDR, flannel, kube-proxy)', () => waitForReadyNodes(config, names, 60_000)),
      ]);
      for (const step of steps) if (step.status === 'rejected') throw step.reason;
      await timer.time('add-ons serving (CoreDNS, ingress) after nodes Ready', () => waitForAddons(client, config, (w) => warnings.push(w)));
    } finally {
      client.close();
    }
    timer.write(path.join(paths.logDir, 'up.log'));
    return { nodes: underlay.nodes, warnings };
  } catch (e) {
    await down(config.name);
    const message = e instanceof CliError ? e.message : `cluster "${config.name}" did not come up: ${(e as Error).message}`;
    throw new CliError(`${message}\n(everything it had created was removed)`);
  }
}

/** Stop everything of the cluster and remove it from the host. Idempotent; works after kill -9 too. */
export async function down(cluster: string): Promise<void> {
  checkClusterName(cluster);
  const paths = clusterPaths(cluster);
  const agents = fs.existsSync(path.join(paths.dir, 'nodes')) ? fs.readdirSync(path.join(paths.dir, 'nodes')) : [];
  const pids = [...agents.map((n) => runningPid(agentPidFile(cluster, n))), runningPid(paths.controlPlanePid)];
  // All at once: agents delete nothing on the way out, and the namespaces go right after.
  await Promise.all(pids.map((pid) => (pid === undefined ? undefined : stopProcess(pid, 3000))));
  await teardownCluster(cluster, paths.dir);
  fs.rmSync(paths.dir, { recursive: true, force: true });
}
