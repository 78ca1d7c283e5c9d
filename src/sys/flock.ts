// An exclusive flock(2) from Node, which has no binding for it: `flock -x FILE cat` takes the lock
// and then runs cat, which keeps the locked fd open until we close its stdin. cat echoing our first
// line proves the lock is held. If this process dies, the pipe closes, cat exits and the kernel
// releases the lock — nothing stale is left behind. Processes using flock(2) on the same file (the
// Go CNI plugins, `flock` in shell scripts) exclude us and we them.

import { spawn } from 'node:child_process';

const LOCK_TIMEOUT_S = 10;

/** Run fn while holding an exclusive lock on file (which must exist). */
export async function withFlock<T>(file: string, fn: () => T | Promise<T>): Promise<T> {
  const release = await acquireFlock(file);
  try {
    return await fn();
  } finally {
    await release();
  }
}

/** Take an exclusive flock on file; resolves to the function that releases it. */
function acquireFlock(file: string): Promise<() => Promise<void>> {
  return new Promise((resolve, reject) => {
    const holder = spawn('flock', ['-x', '-w', String(LOCK_TIMEOUT_S), file, 'cat'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    let held = false;
    const exited = new Promise<void>((done) => holder.on('close', () => done()));
    holder.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    holder.on('error', (e) => reject(new Error(`cannot run flock (util-linux) for ${file}: ${e.message}`)));
    holder.on('close', (code) => {
      if (!held) reject(new Error(`could not lock ${file} within ${LOCK_TIMEOUT_S} s (flock exit ${code}): ${stderr.trim()}`));
    });
    // cat echoes this line only once flock holds the lock and has started it.
    holder.stdout.once('data', () => {
      held = true;
      resolve(async () => {
        holder.stdin.end();
        await exited;
      });
    });
    holder.stdin.on('error', () => {});
    holder.stdin.write('locked\n');
  });
}
