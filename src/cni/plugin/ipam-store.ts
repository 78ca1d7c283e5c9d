// host-local's on-disk state, in the same layout as the reference plugin so students (and the real
// plugin) can read it: <dataDir>/<network>/
//   <ip>                  one file per reserved address, content "<containerID>\r\n<ifname>"
//   last_reserved_ip.<n>  last address handed out from range set n (no newline; kept after DEL)
//   lock                  empty file, exclusively flock()ed during every operation
//
// Locking: a real flock(2) on `lock`, the very lock the Go host-local takes, so our plugin and the
// reference one exclude each other; ipam-lock.ts holds it across a burst of calls in this process.

import fs from 'node:fs';
import path from 'node:path';
import { withFileLock } from './ipam-lock.js';

const LINE_BREAK = '\r\n';
const LAST_RESERVED_PREFIX = 'last_reserved_ip.';
const LOCK_FILE = 'lock';

export class HostLocalStore {
  readonly dir: string;

  constructor(dataDir: string, network: string) {
    this.dir = path.join(dataDir, network);
  }

  /** Run fn with the network's lock held. */
  async locked<T>(fn: () => T | Promise<T>): Promise<T> {
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o755 });
    return withFileLock(path.join(this.dir, LOCK_FILE), fn);
  }

  /** Reserve ip for the attachment; false when someone holds it already. */
  reserve(containerID: string, ifname: string, ip: string, rangeSet: number): boolean {
    try {
      fs.writeFileSync(path.join(this.dir, ip), `${containerID}${LINE_BREAK}${ifname}`, { flag: 'wx', mode: 0o644 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e;
    }
    fs.writeFileSync(path.join(this.dir, `${LAST_RESERVED_PREFIX}${rangeSet}`), ip, { mode: 0o644 });
    return true;
  }

  lastReserved(rangeSet: number): string | undefined {
    try {
      return fs.readFileSync(path.join(this.dir, `${LAST_RESERVED_PREFIX}${rangeSet}`), 'utf8').trim();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  /** Addresses reserved for this attachment (files whose content names it). */
  findByAttachment(containerID: string, ifname: string): string[] {
    return this.reservations()
      .filter((r) => matches(r.owner, containerID, ifname))
      .map((r) => r.ip);
  }

  release(ip: string): void {
    fs.rmSync(path.join(this.dir, ip), { force: true });
  }

  releaseByAttachment(containerID: string, ifname: string): string[] {
    const released = this.findByAttachment(containerID, ifname);
    for (const ip of released) this.release(ip);
    return released;
  }

  private reservations(): { ip: string; owner: string }[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    return names
      .filter((n) => n !== LOCK_FILE && !n.startsWith(LAST_RESERVED_PREFIX))
      .map((ip) => ({ ip, owner: fs.readFileSync(path.join(this.dir, ip), 'utf8').trim() }));
  }
}

/** Old host-local versions wrote only the container ID; those files still belong to it. */
function matches(owner: string, containerID: string, ifname: string): boolean {
  return owner === `${containerID}${LINE_BREAK}${ifname}` || owner === containerID;
}
