// Placeholders in lab.yaml strings, filled from the live cluster when a check runs, so a lab names
// "the IP of the worker" rather than an address that depends on the cluster's name or underlay:
//   {cluster}              the cluster's name
//   {node:ROLE}            the node's name: control-plane, worker, worker2 -> <cluster>-<role>
//   {nodeIP:ROLE}          the node's InternalIP
//   {podCIDR:ROLE}         the node's spec.podCIDR
//   {podIP:SEL[@ROLE]}     IPs of the Pods in `default` matching the label selector (on that node)
//   {podIPs:SEL[@ROLE]}    the same IPs in one value, separated by spaces (for a shell loop)
//   {clusterIP:SVC}        a Service's ClusterIP
//   {nodePort:SVC}         the nodePort of a Service's first port
//   {gateway}              the underlay bridge's address in the host (where host traffic comes from)

import { underlayGatewayIP } from '../api/cluster.js';
import type { Service } from '../api/types.js';
import type { LabEnv } from './env.js';

export class ProbeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProbeError';
  }
}

const PLACEHOLDER = /\{(cluster|gateway|node|nodeIP|podCIDR|podIPs|podIP|clusterIP|nodePort)(?::([^}]+))?\}/g;

export function nodeName(env: Pick<LabEnv, 'cluster'>, role: string): string {
  return `${env.cluster}-${role}`;
}

async function nodeOf(env: LabEnv, role: string) {
  const name = nodeName(env, role);
  const node = (await env.nodes()).find((n) => n.metadata.name === name);
  if (!node) throw new ProbeError(`node ${name} is not registered`);
  return node;
}

/** Every value one placeholder stands for (several for podIP). */
async function resolve(env: LabEnv, name: string, arg: string): Promise<string[]> {
  switch (name) {
    case 'cluster':
      return [env.cluster];
    case 'gateway':
      return [underlayGatewayIP(env.config)];
    case 'node':
      return [nodeName(env, arg)];
    case 'nodeIP': {
      const ip = (await nodeOf(env, arg)).status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
      if (!ip) throw new ProbeError(`node ${nodeName(env, arg)} has no InternalIP`);
      return [ip];
    }
    case 'podCIDR': {
      const cidr = (await nodeOf(env, arg)).spec?.podCIDR;
      if (!cidr) throw new ProbeError(`node ${nodeName(env, arg)} has no podCIDR yet`);
      return [cidr];
    }
    case 'podIPs':
      return [(await resolve(env, 'podIP', arg)).join(' ')];
    case 'podIP': {
      const [selector, role] = arg.split('@');
      const pods = await env.pods(selector);
      const ips = pods.filter((p) => role === undefined || p.spec.nodeName === nodeName(env, role)).flatMap((p) => (p.status?.podIP ? [p.status.podIP] : []));
      if (ips.length === 0) throw new ProbeError(`no running Pod matches ${selector}${role ? ` on ${nodeName(env, role)}` : ''}`);
      return ips;
    }
    case 'clusterIP':
    case 'nodePort': {
      const svc = (await env.getObject('services', arg)) as Service;
      const value = name === 'clusterIP' ? svc.spec.clusterIP : svc.spec.ports?.[0]?.nodePort;
      if (value === undefined || value === '' || value === 'None') throw new ProbeError(`service ${arg} has no ${name}`);
      return [String(value)];
    }
    default:
      throw new ProbeError(`unknown placeholder {${name}}`);
  }
}

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Fill every placeholder. In 'text' a placeholder becomes its first value; in 'regex' it becomes
 * an alternation of all its values, escaped, so a pattern matches any of them.
 */
export async function expand(env: LabEnv, text: string, mode: 'text' | 'regex'): Promise<string> {
  const found = [...text.matchAll(PLACEHOLDER)];
  const values = await Promise.all(found.map((m) => resolve(env, m[1], m[2] ?? '')));
  let out = '';
  let at = 0;
  found.forEach((m, i) => {
    out += text.slice(at, m.index) + (mode === 'text' ? values[i][0] : `(?:${values[i].map(escapeRegex).join('|')})`);
    at = (m.index ?? 0) + m[0].length;
  });
  return out + text.slice(at);
}
