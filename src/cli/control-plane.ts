// The control-plane process: the API server and the controllers of one cluster, in the root
// namespace. `kemu up` starts it detached (`kemu control-plane --cluster NAME`); it runs until
// SIGTERM, then closes the controllers before the API so no write is cut in half.

import fs from 'node:fs';
import { clusterPaths, loadClusterConfig } from '../api/cluster.js';
import { HttpClient } from '../api/http-client.js';
import { startApiServer } from '../api/server/apiserver.js';
import { startControllers } from '../controllers/manager.js';

export async function runControlPlane(cluster: string, signal: AbortSignal): Promise<void> {
  const paths = clusterPaths(cluster);
  const config = loadClusterConfig(cluster);
  fs.mkdirSync(paths.dir, { recursive: true });
  const server = await startApiServer({ storeDir: paths.storeDir, socketPath: paths.apiSocket, config });
  const client = new HttpClient({ socketPath: paths.apiSocket });
  const controllers = await startControllers(client, config);
  console.log(`kemu control-plane: cluster ${cluster} serving on ${paths.apiSocket}`);
  await new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
  console.log('kemu control-plane: shutting down');
  await controllers.stop();
  client.close();
  await server.close();
}
