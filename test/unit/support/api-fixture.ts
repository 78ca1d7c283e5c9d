// A real API server on a temporary Unix socket for client-side tests, with restart on the same
// store, plus bounded poll helpers.

import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { defaultClusterConfig } from '../../../src/api/cluster.js';
import { HttpClient } from '../../../src/api/http-client.js';
import { startApiServer, type ApiServerOptions, type RunningApiServer } from '../../../src/api/server/apiserver.js';

export class ApiFixture {
  server: RunningApiServer | undefined;
  readonly client: HttpClient;

  private constructor(
    readonly dir: string,
    readonly opts: ApiServerOptions,
  ) {
    this.client = new HttpClient({ socketPath: opts.socketPath });
  }

  static async start(extra: Partial<ApiServerOptions> = {}): Promise<ApiFixture> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kemu-api-'));
    const opts: ApiServerOptions = {
      storeDir: path.join(dir, 'store'),
      socketPath: path.join(dir, 'api.sock'),
      config: defaultClusterConfig('test'),
      ...extra,
    };
    const f = new ApiFixture(dir, opts);
    f.server = await startApiServer(opts);
    return f;
  }

  async stopServer(): Promise<void> {
    await this.server?.close();
    this.server = undefined;
  }

  /** Starts the server again on the same store and socket. */
  async restartServer(): Promise<void> {
    this.server = await startApiServer(this.opts);
  }

  async close(): Promise<void> {
    this.client.close();
    await this.stopServer();
    await fs.rm(this.dir, { recursive: true, force: true });
  }
}

/** Polls until check() returns true; throws with what after timeoutMs. */
export async function waitFor(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Polls probe() every everyMs until it gives a value (not undefined or false) and returns it; throws with what after timeoutMs. */
export async function until<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
