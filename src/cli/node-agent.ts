// The node agent: the process that runs one node's components — kubelet and flannel (kube-proxy
// joins them) — inside that node's network namespace. `kemu up` starts one per node
// (`ip netns exec <node netns> kemu node-agent --cluster C --node N`); each component is started
// with its own start function, so each can also run on its own.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { clusterPaths, loadClusterConfig } from '../api/cluster.js';
import { HttpClient } from '../api/http-client.js';
import { startFlannel } from '../cni/flannel/flannel.js';
import { startKubelet } from '../node/kubelet.js';
import { startKubeProxy } from '../proxy/run.js';

/** bin/ of this installation: where kemu-cni lives, as CNI_PATH. */
const CNI_BIN_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin');

interface Stoppable {
  stop(): Promise<void>;
}

export async function runNodeAgent(cluster: string, nodeName: string, underlayIP: string, signal: AbortSignal): Promise<void> {
  const paths = clusterPaths(cluster);
  const config = loadClusterConfig(cluster);
  const client = new HttpClient({ socketPath: paths.apiSocket });
  const log = (component: string) => (message: string) => console.log(`${component}: ${message}`);
  const components: Stoppable[] = [];
  try {
    // The kubelet registers the Node; flannel then waits for the podCIDR the control plane assigns.
    components.push(await startKubelet({ client, nodeName, config, stateDir: paths.dir, underlayIP, cniBinDir: CNI_BIN_DIR }));
    components.push(await startFlannel({ client, nodeName, config, backend: config.backend, stateDir: paths.dir, log: log('flannel') }));
    if (config.proxyMode === 'ipvs') throw new Error('kube-proxy: IPVS mode is not implemented on this host');
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
