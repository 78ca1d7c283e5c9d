// What a checker may look at: the cluster's API, programs run on the host, inside a node's network
// namespace or inside a Pod (as `kemu exec` runs them). Checks see only this interface, so they can
// be tested against a scripted cluster without root.

import { clusterPaths, loadClusterConfig, type ClusterConfig } from '../api/cluster.js';
import { clientForCluster, type HttpClient } from '../api/http-client.js';
import { RESOURCES } from '../api/resources.js';
import type { KubeObject, Node, Pod } from '../api/types.js';
import { nodeNetnsName } from '../cni/topology/names.js';
import { sendNodeControl, type ComponentState, type ControlledComponent } from '../cli/node-control.js';
import { execInPodArgv, execOnNodeArgv, findPodRecord } from '../node/exec.js';
import { exec, type ExecResult } from '../sys/exec.js';

export interface LabEnv {
  cluster: string;
  config: ClusterConfig;
  /** One API object by plural resource name; namespaced kinds are read from `namespace` (default `default`). */
  getObject(resource: string, name: string, namespace?: string): Promise<KubeObject>;
  nodes(): Promise<Node[]>;
  /** Pods in `namespace` (default `default`) matching a label selector (a=b,c=d). */
  pods(selector: string, namespace?: string): Promise<Pod[]>;
  /** Run a program; resolves with its exit code (never throws for a non-zero one). */
  runOnHost(argv: string[], timeoutMs: number): Promise<ExecResult>;
  runOnNode(node: string, argv: string[], timeoutMs: number): Promise<ExecResult>;
  runInPod(pod: Pod, argv: string[], timeoutMs: number): Promise<ExecResult>;
  /** What the node agent says of its stoppable components, as `kemu component status --node`. */
  nodeComponents(node: string): Promise<ComponentState[]>;
}

/** What injecting a fault needs beyond reading (lab 08): a JSON merge patch, as kubectl patch --type merge, and `kemu component stop`. */
export interface WritableLabEnv extends LabEnv {
  patch(resource: string, namespace: string, name: string, patch: unknown): Promise<void>;
  stopComponent(node: string, component: ControlledComponent): Promise<void>;
}

const byPlural = (plural: string) => {
  const r = RESOURCES.find((x) => x.plural === plural);
  if (!r) throw new Error(`unknown resource "${plural}"`);
  return r;
};

function run(argv: string[], timeoutMs: number): Promise<ExecResult> {
  return exec(argv[0], argv.slice(1), { timeoutMs, allowFailure: true }).catch((e: Error) => ({ stdout: '', stderr: e.message, code: -1 }));
}

/** The LabEnv of a running cluster on this host. close() releases its API connection. */
export function liveLabEnv(cluster: string): WritableLabEnv & { close(): void } {
  const client: HttpClient = clientForCluster(cluster);
  return {
    cluster,
    config: loadClusterConfig(cluster),
    getObject: (resource, name, namespace = 'default') => {
      const r = byPlural(resource);
      return client.get(r, r.namespaced ? namespace : undefined, name);
    },
    nodes: async () => (await client.list<Node>(byPlural('nodes'))).items,
    pods: async (selector, namespace = 'default') => (await client.list<Pod>(byPlural('pods'), namespace, { labelSelector: selector })).items,
    runOnHost: run,
    runOnNode: (node, argv, timeoutMs) => run(execOnNodeArgv(nodeNetnsName(node), argv), timeoutMs),
    runInPod: async (pod, argv, timeoutMs) => {
      const found = findPodRecord(clusterPaths(cluster).dir, [pod.spec.nodeName ?? ''], pod.metadata.uid ?? '');
      if (!found) return { stdout: '', stderr: `pod ${pod.metadata.name} has no sandbox`, code: -1 };
      return run(execInPodArgv(found.record, argv), timeoutMs);
    },
    nodeComponents: async (node) => {
      const r = await sendNodeControl(cluster, node, { action: 'status' });
      if (!r.ok) throw new Error(`${node}: ${r.error}`);
      return r.components;
    },
    stopComponent: async (node, component) => {
      const r = await sendNodeControl(cluster, node, { action: 'stop', component });
      if (!r.ok) throw new Error(`stopping ${component} on ${node}: ${r.error}`);
    },
    patch: async (resource, namespace, name, patch) => {
      const r = byPlural(resource);
      await client.patch(r, r.namespaced ? namespace : undefined, name, patch);
    },
    close: () => client.close(),
  };
}
