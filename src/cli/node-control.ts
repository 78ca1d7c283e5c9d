// The node agent's control endpoint: what `systemctl stop|start|restart|status kube-proxy` is on a
// Kubernetes-the-Hard-Way node. Each node agent serves it on a Unix socket in the cluster's state
// directory (Unix sockets are files, so they reach across network namespaces); `kemu component`
// and `kemu status` are its clients. One JSON request per connection, one JSON response back.

import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { clusterPaths } from '../api/cluster.js';

/** The node components that can be stopped and started on their own. */
export const CONTROLLED_COMPONENTS = ['kube-proxy', 'flannel'] as const;
export type ControlledComponent = (typeof CONTROLLED_COMPONENTS)[number];

export const CONTROL_ACTIONS = ['start', 'stop', 'restart', 'status'] as const;
export type ControlAction = (typeof CONTROL_ACTIONS)[number];

export interface ControlRequest {
  action: ControlAction;
  /** Absent with status: every component. */
  component?: ControlledComponent;
}

export interface ComponentState {
  name: ControlledComponent;
  active: boolean;
  /** RFC 3339: when it last started or stopped. */
  since: string;
}

export type ControlResponse = { ok: true; components: ComponentState[] } | { ok: false; error: string };

const REPLY_TIMEOUT_MS = 30_000;

export function controlSocketPath(cluster: string, node: string): string {
  return path.join(clusterPaths(cluster).dir, `${node}.agent.sock`);
}

export function isControlledComponent(name: string): name is ControlledComponent {
  return (CONTROLLED_COMPONENTS as readonly string[]).includes(name);
}

export function isControlAction(name: string): name is ControlAction {
  return (CONTROL_ACTIONS as readonly string[]).includes(name);
}

/** A request read off the wire, or an error naming what is wrong with it. */
export function parseControlRequest(text: string): ControlRequest | string {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return 'the request is not JSON';
  }
  const { action, component } = (raw ?? {}) as { action?: unknown; component?: unknown };
  if (typeof action !== 'string' || !isControlAction(action)) return `action must be one of ${CONTROL_ACTIONS.join(', ')}`;
  if (component === undefined && action === 'status') return { action };
  if (typeof component !== 'string' || !isControlledComponent(component)) return `component must be one of ${CONTROLLED_COMPONENTS.join(', ')}`;
  return { action, component };
}

/** Serve the endpoint; close() stops serving and removes the socket file. */
export async function serveNodeControl(socketPath: string, handle: (req: ControlRequest) => Promise<ControlResponse>): Promise<{ close(): Promise<void> }> {
  fs.rmSync(socketPath, { force: true }); // left by an agent that crashed
  const server = net.createServer((conn) => {
    let text = '';
    let answered = false;
    conn.setEncoding('utf8');
    conn.on('data', (chunk: string) => {
      text += chunk;
      if (answered || !text.includes('\n')) return;
      answered = true; // one request per connection
      const req = parseControlRequest(text.slice(0, text.indexOf('\n')));
      const reply = typeof req === 'string' ? Promise.resolve<ControlResponse>({ ok: false, error: req }) : handle(req);
      void reply
        .catch((e: Error): ControlResponse => ({ ok: false, error: e.message }))
        .then((r) => conn.end(`${JSON.stringify(r)}\n`));
    });
    conn.on('error', () => conn.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  fs.chmodSync(socketPath, 0o600);
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        fs.rmSync(socketPath, { force: true });
      }),
  };
}

/** Ask one node's agent; throws with the node's name when it does not answer. */
export function sendNodeControl(cluster: string, node: string, req: ControlRequest): Promise<ControlResponse> {
  const socketPath = controlSocketPath(cluster, node);
  return new Promise((resolve, reject) => {
    let text = '';
    const conn = net.connect(socketPath);
    conn.setEncoding('utf8');
    conn.setTimeout(REPLY_TIMEOUT_MS, () => conn.destroy(new Error('no answer within 30 s')));
    conn.on('connect', () => conn.write(`${JSON.stringify(req)}\n`));
    conn.on('data', (chunk: string) => (text += chunk));
    conn.on('end', () => {
      try {
        resolve(JSON.parse(text) as ControlResponse);
      } catch {
        reject(new Error(`the node agent of ${node} sent a reply that is not JSON`));
      }
    });
    conn.on('error', (e: NodeJS.ErrnoException) => {
      const why = e.code === 'ENOENT' || e.code === 'ECONNREFUSED' ? 'is not running' : `did not answer (${e.message})`;
      reject(new Error(`the node agent of ${node} ${why} (${socketPath})`));
    });
  });
}
