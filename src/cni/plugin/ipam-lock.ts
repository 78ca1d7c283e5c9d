// host-local's `lock` file, taken the cheap way. The reference plugin flock()s <network>/lock around
// every operation; so do we, so that our plugin, a one-shot kemu-cni (bin/kemu-cni without the
// helper) and Debian's host-local exclude each other. But Node has no flock(2) and every program
// started costs milliseconds, so:
//   - calls inside this process queue behind each other (one helper serves the whole node);
//   - the flock itself is taken through an fd this process keeps open (`flock 3`, src/sys/flock.ts)
//     when the queue starts, and released by closing that fd once the queue has been idle for
//     IDLE_RELEASE_MS — a burst of ADDs starts one program in all, not two per call.
// If the process dies the kernel closes the fd and the lock is gone: nothing stale is left.

import fs from 'node:fs';
import { flockFd } from '../../sys/flock.js';

/** How long the flock outlives the last queued call; other processes wait at most this much longer. */
export const IDLE_RELEASE_MS = 200;
/** The mode host-local 1.1.1 leaves on its lock file. */
const LOCK_MODE = 0o750;

class FileLock {
  private queue: Promise<unknown> = Promise.resolve();
  private pending = 0;
  private fd: number | undefined;
  private releaseTimer: NodeJS.Timeout | undefined;

  constructor(private readonly file: string) {}

  run<T>(fn: () => T | Promise<T>): Promise<T> {
    this.pending += 1;
    clearTimeout(this.releaseTimer);
    const result = this.queue.then(async () => {
      await this.hold();
      return fn();
    });
    this.queue = result.then(
      () => this.done(),
      () => this.done(),
    );
    return result;
  }

  private async hold(): Promise<void> {
    if (this.fd !== undefined) {
      if (this.stillNamesHeldFile()) return;
      // The directory was removed and made again: others lock the new file, so must we.
      fs.closeSync(this.fd);
      this.fd = undefined;
    }
    const fd = fs.openSync(this.file, 'a', LOCK_MODE);
    try {
      await flockFd(fd, this.file);
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
    this.fd = fd;
  }

  private stillNamesHeldFile(): boolean {
    const held = fs.fstatSync(this.fd!);
    const named = fs.statSync(this.file, { throwIfNoEntry: false });
    return named !== undefined && named.ino === held.ino && named.dev === held.dev;
  }

  private done(): void {
    this.pending -= 1;
    if (this.pending > 0) return;
    this.releaseTimer = setTimeout(() => {
      if (this.pending > 0 || this.fd === undefined) return;
      fs.closeSync(this.fd);
      this.fd = undefined;
    }, IDLE_RELEASE_MS);
    // A one-shot plugin process exits without waiting; exiting closes the fd as well.
    this.releaseTimer.unref();
  }
}

const locks = new Map<string, FileLock>();

/** Run fn holding the exclusive lock on file (created if missing), in this process and for others. */
export function withFileLock<T>(file: string, fn: () => T | Promise<T>): Promise<T> {
  let lock = locks.get(file);
  if (!lock) {
    lock = new FileLock(file);
    locks.set(file, lock);
  }
  return lock.run(fn);
}
