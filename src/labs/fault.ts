// What one of lab 08's faults is (faults.ts keeps the list): how it breaks the starting state, how
// to tell from the live cluster that it works again, and what it broke, told once it is fixed.

import type { Pod } from '../api/types.js';
import type { LabEnv, WritableLabEnv } from './env.js';

export interface FaultRecord {
  name: string;
  /** The node a node-level fault was injected on. */
  node?: string;
  /** The other node involved (missing-fdb-entry: the peer whose entry went). */
  peer?: string;
}

export interface Fault {
  name: string;
  /** What was broken, shown once it is fixed. */
  explain(record: FaultRecord): string;
  inject(env: WritableLabEnv): Promise<FaultRecord>;
  fixed(env: LabEnv, record: FaultRecord): Promise<boolean>;
}

/** Lab 08's starting state has a Deployment and a Service named web, and a client Pod (label app=client). */
export const WEB = 'web';

/** The running client Pod: node-level faults break its node, and judge fixes by what it sees. */
export async function clientPod(env: LabEnv): Promise<Pod> {
  const client = (await env.pods('app=client')).find((p) => p.status?.phase === 'Running' && p.spec.nodeName);
  if (!client) throw new Error('the client Pod (app=client) is not running on a node');
  return client;
}
