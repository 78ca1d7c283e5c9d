// The `coredns` program: what kemu runs for the registry.k8s.io/coredns/coredns image. Flags as
// CoreDNS: `-conf FILE` (default "Corefile"); plus kemu's way to reach the API, `--api-socket PATH`
// or env KEMU_API_SOCKET (a real CoreDNS Pod uses its service account token instead).
//
// kemu has no volumes. On a real cluster the Corefile is the `coredns` ConfigMap mounted at
// /etc/coredns, the kubelet refreshes the file within a minute or so of an edit, and the reload
// plugin notices the new text on its next tick. kemu's stand-in: with an API, the program watches
// that ConfigMap (kube-system/coredns, the key named like the -conf file) itself, and each change
// wakes the reload plugin at once. Without a `reload` directive nothing is reloaded, as upstream.
// Without an API, -conf is read from disk.

import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { HttpClient } from '../api/http-client.js';
import { Informer } from '../api/informer.js';
import { resourceForKind } from '../api/resources.js';
import type { ConfigMap } from '../api/types.js';
import { parseFlags } from '../workloads/flags.js';
import { onTermination } from '../workloads/lifecycle.js';
import { parseCorefile } from './corefile/parse.js';
import { startClusterDns, type ClusterDns } from './main.js';

const CONFIGMAP_NAMESPACE = 'kube-system';
const CONFIGMAP_NAME = 'coredns';
const CONFIGMAPS = resourceForKind('v1', 'ConfigMap')!;

interface CorefileSource {
  read(): Promise<string>;
  watch?(onChange: () => void): () => void;
  stop(): void;
}

/** The Corefile as the key `key` of the coredns ConfigMap, kept current by a watch. */
async function configMapCorefile(client: HttpClient, key: string): Promise<CorefileSource> {
  const informer = new Informer<ConfigMap>(client, CONFIGMAPS, { namespace: CONFIGMAP_NAMESPACE, fieldSelector: `metadata.name=${CONFIGMAP_NAME}` });
  const listeners = new Set<() => void>();
  const changed = (): void => listeners.forEach((l) => l());
  informer.addHandler({ onAdd: changed, onUpdate: changed, onDelete: changed });
  await informer.start();
  return {
    read: async () => {
      const cm = informer.get(CONFIGMAP_NAMESPACE, CONFIGMAP_NAME);
      const text = cm?.data?.[key];
      if (text === undefined) throw new Error(`configmap "${CONFIGMAP_NAME}" in namespace "${CONFIGMAP_NAMESPACE}" has no key "${key}" (it is kemu's stand-in for the mounted ${key} file)`);
      return text;
    },
    watch: (onChange) => {
      listeners.add(onChange);
      return () => listeners.delete(onChange);
    },
    stop: () => informer.stop(),
  };
}

/** This Pod's own addresses, for the kubernetes plugin's NS answers. */
function podIPs(): string[] {
  return Object.values(os.networkInterfaces())
    .flat()
    .filter((a) => a !== undefined && !a.internal && !(a.family === 'IPv6' && a.address.startsWith('fe80:')))
    .map((a) => a!.address);
}

/** The one port every server block listens on (kemu serves a single port per process). */
function listenPort(corefile: string): number {
  const ports = new Set(parseCorefile(corefile).flatMap((b) => b.keys.map((k) => k.port)));
  if (ports.size !== 1) throw new Error(`server blocks listen on ports ${[...ports].join(', ')}: kemu's coredns serves one port`);
  return [...ports][0]!;
}

export async function run(args: string[]): Promise<void> {
  const flags = parseFlags(args, { conf: { kind: 'string', default: 'Corefile' }, 'api-socket': { kind: 'string', default: process.env.KEMU_API_SOCKET ?? '' } });
  const socketPath = flags['api-socket'];
  const client = socketPath ? new HttpClient({ socketPath }) : undefined;
  const source: CorefileSource = client ? await configMapCorefile(client, path.basename(flags.conf)) : { read: () => readFile(flags.conf, 'utf8'), stop: () => undefined };
  const corefile = await source.read();
  const port = listenPort(corefile);
  const dns: ClusterDns = await startClusterDns({
    ...(client ? { client } : {}),
    corefile,
    listen: { address: '0.0.0.0', port },
    localIPs: podIPs(),
    readCorefile: () => source.read(),
    ...(source.watch ? { watchCorefile: source.watch } : {}),
    onFatal: () => process.exit(1),
  });
  for (const b of parseCorefile(corefile)) console.log(b.keys.map((k) => `${k.zone}:${k.port}`).join(' '));
  console.log('CoreDNS-1.11.3 (kemu)');
  onTermination(async () => {
    await dns.stop();
    source.stop();
    client?.close();
  });
}
