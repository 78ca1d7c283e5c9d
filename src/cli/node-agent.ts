// The node agent: the process that runs one node's components — kubelet, flannel, kube-proxy and
// the CNI plugin's warm helper — inside that node's network namespace. `kemu up` starts one per node
// (`nsenter --net=<node netns> kemu node-agent --cluster C --node N`) together with the control
// plane, so the agent first waits for the API; each component is started with its own start
// function, so each can also run on its own.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { clusterPaths, loadClusterConfig } from '../api/cluster.js';
import { HttpClient } from '../api/http-client.js';
import { startFlannel } from '../cni/flannel/flannel.js';
import { HELPER_ENV, startCniHelper } from '../cni/plugin/helper.js';
import { nodeNames } from '../cni/topology/names.js';
import { startKubelet } from '../node/kubelet.js';
import { startKubeProxy } from '../proxy/run.js';

/** bin/ of this installation: where kemu-cni lives, as CNI_PATH. */
const CNI_BIN_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin');

interface Stoppable {
  stop(): Promise<void>;
}

const API_WAIT_MS = 30_000;

/** `kemu up` starts agents together with the control plane: wait until its API answers. */
async function waitForApi(client: HttpClient, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + API_WAIT_MS;
  for (;;) {
    try {
      await client.raw('/version');
      return;
    } catch (e) {
      if (signal.aborted || Date.now() > deadline) throw new Error(`the API server did not answer: ${(e as Error).message}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

export async function runNodeAgent(cluster: string, nodeName: string, underlayIP: string, signal: AbortSignal): Promise<void> {
  const paths = clusterPaths(cluster);
  const config = loadClusterConfig(cluster);
  const client = new HttpClient({ socketPath: paths.apiSocket });
  const log = (component: string) => (message: string) => console.log(`${component}: ${message}`);
  const components: Stoppable[] = [];
  try {
    await waitForApi(client, signal);
    // The CNI plugin's warm helper; the runtime passes this process's environment on to the plugin
    // executable, which finds the helper there (src/cni/plugin/helper.ts).
    const helper = await startCniHelper(log('kemu-cni'));
    components.push(helper);
    process.env[HELPER_ENV] = helper.address;
    // The kubelet registers the Node; flannel then waits for the podCIDR the control plane assigns.
    const index = nodeNames(cluster, config.workers).indexOf(nodeName);
    const nodeIndex = index >= 0 ? index : undefined;
    components.push(await startKubelet({ client, nodeName, config, stateDir: paths.dir, underlayIP, cniBinDir: CNI_BIN_DIR, nodeIndex }));
    components.push(await startFlannel({ client, nodeName, config, backend: config.backend, stateDir: paths.dir, log: log('flannel') }));
    components.push(await startKubeProxy({ client, nodeName, config, mode: config.proxyMode, log: log('kube-proxy') }));
    console.log(`kemu node-agent: node ${nodeName} of cluster ${cluster} running`);
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
    });
  } finally {
    console.log('kemu node-agent: shutting down');
    for (const c of components.reverse()) await c.stop();
    client.close();
  }
}
