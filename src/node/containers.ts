// A container is a process group started inside its Pod's namespaces:
//   nsenter --uts=<uts file> ip netns exec <pod netns> <program> <args>
// (pause, which reads no file, without the mount namespace: nsenter --uts=<uts file> --net=<netns> sh …)
// nsenter and `ip netns exec` both exec in place, so the pid we get is the program's, and its
// process group (it is a session leader) holds whatever it forks. `ip netns exec` also mounts
// /etc/netns/<pod netns>/resolv.conf and hosts over /etc. Output goes to the container's log file.
// Processes are detached: a kubelet restart leaves them running and re-adopts them by pid + start time.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { ImageLaunch } from '../workloads/images.js';
import { netnsPath } from '../sys/netns.js';
import { isSameProcess, processStartTicks } from '../sys/procfs.js';

/** What the pause image runs: a shell that sleeps until told to stop — a few hundred KiB, not a Node process. */
export const PAUSE_ARGV = ['sh', '-c', 'trap "exit 0" TERM INT; while :; do sleep 3600 & wait $!; done'];

/** The environment every container starts from, as an image's config would give it. */
export const BASE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The argv that runs a program inside the Pod's UTS and network namespaces with its /etc files. */
export function inPodArgv(pod: { utsFile: string; netns: string }, argv: readonly string[]): string[] {
  return ['nsenter', `--uts=${pod.utsFile}`, 'ip', 'netns', 'exec', pod.netns, ...argv];
}

/**
 * The argv of a container for a resolved image; builtinRunner runs kemu's built-in programs (node
 * dist/workloads/main.js). pause reads no file, so it gets only the Pod's UTS and network namespaces:
 * no mount namespace for `ip netns exec` to set up, and none that every later Pod's namespace mounts
 * propagate into (one copy per running container, which makes a burst of Pods quadratic).
 */
export function containerArgv(pod: { utsFile: string; netns: string }, launch: ImageLaunch, builtinRunner: readonly string[]): string[] {
  if (launch.kind === 'exec') return inPodArgv(pod, [launch.command, ...launch.args]);
  if (launch.program === 'pause') return ['nsenter', `--uts=${pod.utsFile}`, `--net=${netnsPath(pod.netns)}`, '--', ...PAUSE_ARGV];
  return inPodArgv(pod, [...builtinRunner, launch.program, ...launch.args]);
}

/** <stateDir>/pods/<ns>_<pod>_<uid>/, the layout of /var/log/pods. */
export function podLogDir(stateDir: string, namespace: string, name: string, uid: string): string {
  return path.join(stateDir, 'pods', `${namespace}_${name}_${uid}`);
}

export function containerLogFile(logDir: string, container: string): string {
  return path.join(logDir, `${container}.log`);
}

/**
 * Points <stateDir>/pods/<ns>_<pod> (what `kemu logs` reads) at the current Pod of that name, the
 * way /var/log/containers links point into /var/log/pods.
 */
export function linkPodLogDir(logDir: string): void {
  const { base, link } = logLink(logDir);
  try {
    if (fs.readlinkSync(link) === base) return;
    fs.rmSync(link, { force: true });
  } catch {
    // missing or not a link
  }
  fs.symlinkSync(base, link);
}

/** Remove that link unless it already points at a newer Pod of the same name. */
export function unlinkPodLogDir(logDir: string): void {
  const { base, link } = logLink(logDir);
  try {
    if (fs.readlinkSync(link) === base) fs.rmSync(link);
  } catch {
    // no link
  }
}

function logLink(logDir: string): { base: string; link: string } {
  const base = path.basename(logDir);
  return { base, link: path.join(path.dirname(logDir), base.slice(0, base.lastIndexOf('_'))) };
}

export interface ProcessSpec {
  argv: string[];
  env: Record<string, string>;
  cwd?: string;
  logFile: string;
  /** Move the previous instance's log to <container>.previous.log first (a restart). */
  rotateLog: boolean;
}

export interface StartedProcess {
  pid: number;
  startTicks: number | undefined;
}

export type ExitHandler = (exit: { code: number | null; signal: NodeJS.Signals | null }) => void;

export function startProcess(spec: ProcessSpec, onExit: ExitHandler): Promise<StartedProcess> {
  fs.mkdirSync(path.dirname(spec.logFile), { recursive: true });
  if (spec.rotateLog && fs.existsSync(spec.logFile)) fs.renameSync(spec.logFile, spec.logFile.replace(/\.log$/, '.previous.log'));
  const log = fs.openSync(spec.logFile, 'a');
  return new Promise((resolve, reject) => {
    const child = spawn(spec.argv[0]!, spec.argv.slice(1), { detached: true, stdio: ['ignore', log, log], env: spec.env, cwd: spec.cwd ?? '/' });
    fs.closeSync(log);
    child.once('error', reject);
    child.once('spawn', () => {
      child.unref();
      const pid = child.pid as number;
      resolve({ pid, startTicks: processStartTicks(pid) });
    });
    child.once('exit', (code, signal) => onExit({ code, signal }));
  });
}

/** Signal the container's process group (its pid is the group's id); false when the group is gone. */
export function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** SIGTERM the group, SIGKILL it after graceMs; resolves once the main process is gone. */
export async function stopProcessGroup(pid: number, startTicks: number | undefined, graceMs: number): Promise<void> {
  if (!isSameProcess(pid, startTicks)) return;
  signalGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isSameProcess(pid, startTicks)) break;
    await sleep(50);
  }
  // also whatever the main process left behind in its group
  signalGroup(pid, 'SIGKILL');
  for (let i = 0; i < 100 && isSameProcess(pid, startTicks); i++) await sleep(20);
}
