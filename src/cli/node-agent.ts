// The node agent: the process that runs one node's components — kubelet, flannel, kube-proxy and
// the CNI plugin's warm helper — inside that node's network namespace. `kemu up` starts one per node
// (`nsenter --net=<node netns> kemu node-agent --cluster C --node N`) together with the control
// plane, so the agent first waits for the API; each component is started with its own start
// function, so each can also run on its own. kube-proxy and flannel can be stopped, started and
// restarted while the agent runs, as systemd units on a Kubernetes-the-Hard-Way node: the agent
// serves that on its control socket (node-control.ts; `kemu component`). A stopped component leaves
// its kernel state behind, as the real daemons do: kube-proxy's rules stay, only nobody updates them.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { clusterPaths, loadClusterConfig } from '../api/cluster.js';
import { HttpClient } from '../api/http-client.js';
import { startFlannel } from '../cni/flannel/flannel.js';
import { HELPER_ENV, startCniHelper } from '../cni/plugin/helper.js';
import { nodeNames } from '../cni/topology/names.js';
import { rfc3339 } from '../controllers/controller.js';
import { startKubelet } from '../node/kubelet.js';
import { startKubeProxy } from '../proxy/run.js';
import { controlSocketPath, serveNodeControl, type ComponentState, type ControlledComponent, type ControlRequest, type ControlResponse } from './node-control.js';

/** bin/ of this installation: where kemu-cni lives, as CNI_PATH. */
const CNI_BIN_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin');

interface Stoppable {
  stop(): Promise<void>;
}

const API_WAIT_MS = 30_000;

/** One component the control socket can stop and start; actions on it run one at a time. */
class ControlledSlot {
  private running: Stoppable | undefined;
  private since = rfc3339();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly name: ControlledComponent,
    private readonly startFn: () => Promise<Stoppable>,
  ) {}

  /** Starting a running component or stopping a stopped one changes nothing, as systemctl. */
  start(): Promise<void> {
    return this.serialized(async () => {
      if (this.running) return;
      this.running = await this.startFn();
      this.since = rfc3339();
    });
  }

  stop(): Promise<void> {
    return this.serialized(async () => {
      if (!this.running) return;
      const r = this.running;
      this.running = undefined;
      await r.stop();
      this.since = rfc3339();
    });
  }

  state(): ComponentState {
    return { name: this.name, active: this.running !== undefined, since: this.since };
  }

  private serialized(action: () => Promise<void>): Promise<void> {
    const next = this.queue.then(action);
    this.queue = next.catch(() => undefined);
    return next;
  }
}

async function control(slots: ControlledSlot[], req: ControlRequest): Promise<ControlResponse> {
  const targets = req.component === undefined ? slots : slots.filter((s) => s.name === req.component);
  for (const slot of targets) {
    if (req.action === 'stop' || req.action === 'restart') await slot.stop();
    if (req.action === 'start' || req.action === 'restart') await slot.start();
  }
  return { ok: true, components: targets.map((s) => s.state()) };
}

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
    const slots = [
      new ControlledSlot('flannel', () => startFlannel({ client, nodeName, config, backend: config.backend, stateDir: paths.dir, log: log('flannel') })),
      new ControlledSlot('kube-proxy', () => startKubeProxy({ client, nodeName, config, mode: config.proxyMode, log: log('kube-proxy') })),
    ];
    for (const slot of slots) {
      await slot.start();
      components.push(slot);
    }
    const controlServer = await serveNodeControl(controlSocketPath(cluster, nodeName), (req) => {
      if (req.action !== 'status') log('kemu node-agent')(`${req.action} ${req.component} (control socket)`);
      return control(slots, req);
    });
    components.push({ stop: () => controlServer.close() });
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
