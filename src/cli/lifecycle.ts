// Bringing a cluster up and down on this host. Today a cluster is its control-plane process and
// its state directory; node namespaces, links and rules join here as the networking lands. Every
// step is recorded in the state directory so `down` can undo it after a crash too.

import fs from 'node:fs';
import { clusterPaths, defaultClusterConfig, saveClusterConfig, type ClusterConfig } from '../api/cluster.js';
import { HttpClient } from '../api/http-client.js';
import { runningPid, spawnDaemon, stopProcess } from '../sys/process.js';
import { CliError } from './errors.js';

/** Cluster names become parts of namespace, link and chain names, so they follow RFC 1123 labels. */
const CLUSTER_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const MAX_CLUSTER_NAME = 20;

export function checkClusterName(name: string): void {
  if (!CLUSTER_NAME.test(name) || name.length > MAX_CLUSTER_NAME) {
    throw new CliError(
      `error: invalid cluster name "${name}": must be a lowercase RFC 1123 label of at most ${MAX_CLUSTER_NAME} characters ` +
        `(it becomes part of namespace and interface names)`,
    );
  }
}

export function isClusterUp(cluster: string): boolean {
  return runningPid(clusterPaths(cluster).controlPlanePid) !== undefined;
}

/** The command line that re-runs this same kemu entry point (built JS, or TS under tsx in tests). */
function selfCommand(args: string[]): { command: string; args: string[] } {
  return { command: process.execPath, args: [...process.execArgv, process.argv[1], ...args] };
}

async function waitForApi(cluster: string, timeoutMs: number): Promise<void> {
  const client = new HttpClient({ socketPath: clusterPaths(cluster).apiSocket });
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      try {
        await client.raw('/version');
        return;
      } catch (e) {
        if (Date.now() > deadline) throw e;
        if (!isClusterUp(cluster)) throw new Error('the control-plane process exited');
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  } finally {
    client.close();
  }
}

function logTail(file: string, lines = 20): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Start the control plane of a new cluster and wait until its API answers. */
export async function up(config: ClusterConfig = defaultClusterConfig()): Promise<void> {
  checkClusterName(config.name);
  if (isClusterUp(config.name)) throw new CliError(`error: cluster "${config.name}" is already up (kemu down --cluster ${config.name} removes it)`);
  const paths = clusterPaths(config.name);
  fs.mkdirSync(paths.logDir, { recursive: true });
  saveClusterConfig(config);
  const self = selfCommand(['control-plane', '--cluster', config.name]);
  const logFile = `${paths.logDir}/control-plane.log`;
  spawnDaemon({ ...self, logFile, pidFile: paths.controlPlanePid });
  try {
    await waitForApi(config.name, 15_000);
  } catch (e) {
    await down(config.name);
    throw new CliError(`error: the control plane of cluster "${config.name}" did not start: ${(e as Error).message}\n${logTail(logFile)}`);
  }
}

/** Stop everything of the cluster and remove its state. Idempotent; works after kill -9 too. */
export async function down(cluster: string): Promise<void> {
  checkClusterName(cluster);
  const paths = clusterPaths(cluster);
  const pid = runningPid(paths.controlPlanePid);
  if (pid !== undefined) await stopProcess(pid);
  fs.rmSync(paths.dir, { recursive: true, force: true });
}
