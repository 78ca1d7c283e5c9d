// A container's environment as the kubelet builds it (makeEnvironmentVariables): the Service
// variables (Docker-link style) of the Services in the Pod's namespace and of `kubernetes` in
// default, then envFrom and env in order with $(VAR) references expanded, fieldRef values from the
// Pod, and configMapKeyRef / secretKeyRef values. Pure: ConfigMaps and Secrets come in as lookups.

import type { ConfigMap, Container, Pod, Secret, Service } from '../api/types.js';

/** The Services whose variables a Pod gets (getServiceEnvVarMap): kubernetes in default always, its namespace's when enableServiceLinks. */
export function servicesForPod(pod: Pod, services: readonly Service[]): Service[] {
  const namespace = pod.metadata.namespace ?? 'default';
  const links = pod.spec.enableServiceLinks ?? true;
  const byName = new Map<string, Service>();
  for (const svc of services) {
    if (!isServiceIPSet(svc)) continue;
    const name = svc.metadata.name ?? '';
    if (svc.metadata.namespace === 'default' && name === 'kubernetes') {
      if (!byName.has(name)) byName.set(name, svc);
    } else if (svc.metadata.namespace === namespace && links) {
      byName.set(name, svc);
    }
  }
  return [...byName.values()];
}

function isServiceIPSet(svc: Service): boolean {
  const ip = svc.spec.clusterIP;
  return ip !== undefined && ip !== '' && ip !== 'None';
}

/** "my-web" → "MY_WEB" */
const envName = (name: string) => name.replaceAll('-', '_').toUpperCase();

const hostPort = (ip: string, port: number) => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);

/** The variables of these Services (envvars.FromServices), in the kubelet's order per Service. */
export function serviceEnvVars(services: readonly Service[]): [string, string][] {
  const out: [string, string][] = [];
  for (const svc of services) {
    const ports = svc.spec.ports ?? [];
    if (!isServiceIPSet(svc) || ports.length === 0) continue;
    const ip = svc.spec.clusterIP as string;
    const prefix = envName(svc.metadata.name ?? '');
    out.push([`${prefix}_SERVICE_HOST`, ip], [`${prefix}_SERVICE_PORT`, String(ports[0]!.port)]);
    for (const p of ports) if (p.name) out.push([`${prefix}_SERVICE_PORT_${envName(p.name)}`, String(p.port)]);
    ports.forEach((p, i) => {
      const protocol = p.protocol ?? 'TCP';
      const url = `${protocol.toLowerCase()}://${hostPort(ip, p.port)}`;
      if (i === 0) out.push([`${prefix}_PORT`, url]);
      const portPrefix = `${prefix}_PORT_${p.port}_${protocol.toUpperCase()}`;
      out.push([portPrefix, url], [`${portPrefix}_PROTO`, protocol.toLowerCase()], [`${portPrefix}_PORT`, String(p.port)], [`${portPrefix}_ADDR`, ip]);
    });
  }
  return out;
}

/**
 * Kubernetes' $(VAR) expansion: $(NAME) becomes the value when NAME is defined and stays as written
 * otherwise; $$ is an escaped $.
 */
export function expand(input: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  for (let i = 0; i < input.length; i++) {
    const c = input[i];
    if (c !== '$' || i + 1 >= input.length) {
      out += c;
      continue;
    }
    const next = input[i + 1];
    if (next === '$') {
      out += '$';
      i++;
    } else if (next === '(') {
      const close = input.indexOf(')', i + 2);
      if (close < 0) {
        out += input.slice(i);
        break;
      }
      const name = input.slice(i + 2, close);
      const value = lookup(name);
      out += value ?? `$(${name})`;
      i = close;
    } else {
      out += c;
    }
  }
  return out;
}

/** Thrown for what the kubelet reports as CreateContainerConfigError. */
export class ContainerConfigError extends Error {
  readonly reason = 'CreateContainerConfigError';
}

export interface EnvSources {
  /** The Pod as the kubelet sees it, status.podIP and status.hostIP included. */
  pod: Pod;
  services: readonly Service[];
  configMap(name: string): ConfigMap | undefined;
  secret(name: string): Secret | undefined;
}

const FIELD_PATH = /^metadata\.(labels|annotations)\['(.+)'\]$/;

/** A fieldRef's value (podFieldSelectorRuntimeValue + ExtractFieldPathAsString). */
export function fieldValue(pod: Pod, path: string): string {
  const status = pod.status ?? {};
  switch (path) {
    case 'metadata.name':
      return pod.metadata.name ?? '';
    case 'metadata.namespace':
      return pod.metadata.namespace ?? '';
    case 'metadata.uid':
      return pod.metadata.uid ?? '';
    case 'spec.nodeName':
      return pod.spec.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec.serviceAccountName ?? '';
    case 'status.hostIP':
      return status.hostIP ?? '';
    case 'status.hostIPs':
      return (status.hostIPs ?? []).map((a) => a.ip).join(',');
    case 'status.podIP':
      return status.podIP ?? '';
    case 'status.podIPs':
      return (status.podIPs ?? []).map((a) => a.ip).join(',');
  }
  const m = FIELD_PATH.exec(path);
  if (m) return (m[1] === 'labels' ? pod.metadata.labels : pod.metadata.annotations)?.[m[2]!] ?? '';
  throw new ContainerConfigError(`unsupported fieldPath: ${path}`);
}

interface KeyRef {
  name?: string;
  key: string;
  optional?: boolean;
}

function decodeSecret(secret: Secret, key: string): string | undefined {
  const b64 = secret.data?.[key];
  if (b64 !== undefined) return Buffer.from(b64, 'base64').toString('utf8');
  return secret.stringData?.[key];
}

function keyRefValue(src: EnvSources, kind: 'ConfigMap' | 'Secret', ref: KeyRef): string | undefined {
  const ns = src.pod.metadata.namespace ?? 'default';
  const name = ref.name ?? '';
  const obj = kind === 'ConfigMap' ? src.configMap(name) : src.secret(name);
  if (!obj) {
    if (ref.optional) return undefined;
    throw new ContainerConfigError(`${kind.toLowerCase()} "${name}" not found`);
  }
  const value = kind === 'ConfigMap' ? (obj as ConfigMap).data?.[ref.key] : decodeSecret(obj as Secret, ref.key);
  if (value === undefined && !ref.optional) throw new ContainerConfigError(`couldn't find key ${ref.key} in ${kind} ${ns}/${name}`);
  return value;
}

interface EnvFromSource {
  prefix?: string;
  configMapRef?: { name?: string; optional?: boolean };
  secretRef?: { name?: string; optional?: boolean };
}

function envFromValues(src: EnvSources, from: EnvFromSource): [string, string][] {
  const ref = from.configMapRef ?? from.secretRef;
  const kind = from.configMapRef ? 'ConfigMap' : 'Secret';
  const name = ref?.name ?? '';
  const obj = kind === 'ConfigMap' ? src.configMap(name) : src.secret(name);
  if (!obj) {
    if (ref?.optional) return [];
    throw new ContainerConfigError(`${kind.toLowerCase()} "${name}" not found`);
  }
  const keys = kind === 'ConfigMap' ? Object.keys((obj as ConfigMap).data ?? {}) : Object.keys({ ...(obj as Secret).stringData, ...(obj as Secret).data });
  const prefix = from.prefix ?? '';
  return keys.map((k) => [`${prefix}${k}`, kind === 'ConfigMap' ? (obj as ConfigMap).data![k]! : decodeSecret(obj as Secret, k) ?? '']);
}

/**
 * The container's variables in the order a process sees them: envFrom, env (each expanded against
 * what came before and the Service variables), then the Service variables the container did not set.
 */
export function containerEnv(container: Container, src: EnvSources): [string, string][] {
  const serviceEnv = new Map(serviceEnvVars(servicesForPod(src.pod, src.services)));
  const env = new Map<string, string>();
  const lookup = (name: string) => env.get(name) ?? serviceEnv.get(name);
  for (const from of (container.envFrom ?? []) as EnvFromSource[]) {
    for (const [k, v] of envFromValues(src, from)) env.set(k, v);
  }
  for (const e of container.env ?? []) {
    if (e.value !== undefined || !e.valueFrom) {
      env.set(e.name, expand(e.value ?? '', lookup));
      continue;
    }
    const from = e.valueFrom as { fieldRef?: { fieldPath: string }; configMapKeyRef?: KeyRef; secretKeyRef?: KeyRef };
    let value: string | undefined;
    if (from.fieldRef) value = fieldValue(src.pod, from.fieldRef.fieldPath);
    else if (from.configMapKeyRef) value = keyRefValue(src, 'ConfigMap', from.configMapKeyRef);
    else if (from.secretKeyRef) value = keyRefValue(src, 'Secret', from.secretKeyRef);
    else throw new ContainerConfigError(`env ${e.name}: unsupported valueFrom ${Object.keys(from).join(',')}`);
    if (value !== undefined) env.set(e.name, value);
  }
  for (const [k, v] of serviceEnv) if (!env.has(k)) env.set(k, v);
  return [...env];
}

/** command and args with $(VAR) references expanded against the container's environment. */
export function expandArgv(list: readonly string[] | undefined, env: readonly [string, string][]): string[] {
  const vars = new Map(env);
  return (list ?? []).map((s) => expand(s, (n) => vars.get(n)));
}
