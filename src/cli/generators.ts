// The objects `kemu create <kind> NAME ...` builds, shaped as kubectl's generators build them.

import fs from 'node:fs';
import path from 'node:path';
import type { ConfigMap, Container, Deployment, Namespace, Secret } from '../api/types.js';
import { CliError } from './errors.js';

export function namespaceObject(name: string): Namespace {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name } };
}

/** A container name from an image reference: registry.k8s.io/e2e-test-images/agnhost:2.39 -> agnhost. */
export function containerNameForImage(image: string): string {
  const last = image.split('/').pop() ?? image;
  return last.split('@')[0].split(':')[0].replace(/_/g, '-');
}

export function deploymentObject(name: string, images: string[], replicas: number, port: number | undefined): Deployment {
  if (images.length === 0) throw new CliError('required flag(s) "image" not set');
  const labels = { app: name };
  const used = new Set<string>();
  const containers: Container[] = images.map((image, i) => {
    let cname = containerNameForImage(image);
    if (used.has(cname)) cname = `${cname}-${i}`;
    used.add(cname);
    return { name: cname, image, ...(port !== undefined ? { ports: [{ containerPort: port }] } : {}) };
  });
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels },
    spec: { replicas, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers } } },
  };
}

/** `k=v` pairs of --from-literal; the value may hold further '=' signs. */
export function parseLiteral(s: string): [string, string] {
  const eq = s.indexOf('=');
  if (eq <= 0) throw new CliError(`invalid literal source ${s}, expected key=value`);
  return [s.slice(0, eq), s.slice(eq + 1)];
}

/** `[key=]path` of --from-file: the key defaults to the file's base name. */
function readFileSource(s: string): [string, Buffer] {
  const eq = s.indexOf('=');
  const [key, file] = eq > 0 ? [s.slice(0, eq), s.slice(eq + 1)] : [path.basename(s), s];
  try {
    return [key, fs.readFileSync(file)];
  } catch {
    throw new CliError(`error reading ${file}: no such file or directory`);
  }
}

function collectData(literals: string[], files: string[]): Map<string, Buffer> {
  const data = new Map<string, Buffer>();
  const add = (k: string, v: Buffer): void => {
    if (data.has(k)) throw new CliError(`cannot add key ${k}, another key by that name already exists`);
    data.set(k, v);
  };
  for (const l of literals) {
    const [k, v] = parseLiteral(l);
    add(k, Buffer.from(v));
  }
  for (const f of files) add(...readFileSource(f));
  return data;
}

export function configMapObject(name: string, literals: string[], files: string[]): ConfigMap {
  const data: Record<string, string> = {};
  for (const [k, v] of collectData(literals, files)) data[k] = v.toString('utf8');
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data };
}

export function genericSecretObject(name: string, literals: string[], files: string[], type = 'Opaque'): Secret {
  const data: Record<string, string> = {};
  for (const [k, v] of collectData(literals, files)) data[k] = v.toString('base64');
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name }, type, data };
}

export function tlsSecretObject(name: string, certFile: string | undefined, keyFile: string | undefined): Secret {
  if (!certFile || !keyFile) throw new CliError('key and cert must be specified');
  const read = (f: string): string => {
    try {
      return fs.readFileSync(f).toString('base64');
    } catch {
      throw new CliError(`open ${f}: no such file or directory`);
    }
  };
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name }, type: 'kubernetes.io/tls', data: { 'tls.crt': read(certFile), 'tls.key': read(keyFile) } };
}

