// Single-process ownership of a store directory: a LOCK file created exclusively and holding the
// owner's pid. A lock whose pid is no longer alive was left by a crash and is taken over.

import { open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';

export class DirLock {
  private constructor(private readonly path: string) {}

  static async acquire(dir: string): Promise<DirLock> {
    const path = join(dir, 'LOCK');
    // Two rounds: the second runs after a stale lock was removed.
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const handle = await open(path, 'wx');
        try {
          await handle.writeFile(`${process.pid}\n`);
          await handle.sync();
        } finally {
          await handle.close();
        }
        return new DirLock(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const owner = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
      if (Number.isInteger(owner) && owner > 0 && isAlive(owner)) {
        throw new Error(`store directory ${dir} is locked by process ${owner} (${path})`);
      }
      await unlinkIfPresent(path);
    }
    throw new Error(`store directory ${dir}: could not take ${path}; another process is racing for it`);
  }

  release(): Promise<void> {
    return unlinkIfPresent(this.path);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function unlinkIfPresent(path: string): Promise<void> {
  await unlink(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
}
