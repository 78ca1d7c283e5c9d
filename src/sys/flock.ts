// An exclusive flock(2) from Node, which has no binding for it. util-linux's `flock FD` (its third
// form) locks the descriptor it inherits and exits; a flock belongs to the open file description,
// not to the process that took it, so the lock stays held for as long as this process keeps its fd
// open, and closing the fd (or dying) releases it — nothing stale is left behind. Processes using
// flock(2) on the same file (the Go CNI plugins, `flock` in shell scripts) exclude us and we them.

import { spawn } from 'node:child_process';

const LOCK_TIMEOUT_S = 10;

/** Take an exclusive flock on the open file description behind fd (file names it in errors). */
export function flockFd(fd: number, file: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const locker = spawn('flock', ['-x', '-w', String(LOCK_TIMEOUT_S), '3'], { stdio: ['ignore', 'ignore', 'pipe', fd] });
    let stderr = '';
    locker.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    locker.on('error', (e) => reject(new Error(`cannot run flock (util-linux) for ${file}: ${e.message}`)));
    locker.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`could not lock ${file} within ${LOCK_TIMEOUT_S} s (flock exit ${code}): ${stderr.trim()}`));
    });
  });
}
