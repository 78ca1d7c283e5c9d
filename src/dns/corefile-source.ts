// Where the coredns program reads its Corefile from.
//
// kemu has no volumes. On a real cluster the Corefile is the `coredns` ConfigMap mounted at
// /etc/coredns, the kubelet refreshes the file within a minute or so of an edit, and the reload
// plugin notices the new text on its next tick. kemu's stand-in: with an API, the program watches
// that ConfigMap (kube-system/coredns, the key named like the -conf file) itself, and each change
// wakes the reload plugin at once. Without an API, the file is read from disk on every check.

import { readFile } from 'node:fs/promises';
import type { HttpClient } from '../api/http-client.js';
import { Informer } from '../api/informer.js';
import { resourceForKind } from '../api/resources.js';
import type { ConfigMap } from '../api/types.js';

const CONFIGMAP_NAMESPACE = 'kube-system';
const CONFIGMAP_NAME = 'coredns';
const CONFIGMAPS = resourceForKind('v1', 'ConfigMap')!;

export interface CorefileSource {
  read(): Promise<string>;
  /** calls `onChange` whenever the text may have changed; returns the unsubscribe function */
  watch?(onChange: () => void): () => void;
  stop(): void;
}

/** The Corefile as the key `key` of the coredns ConfigMap, kept current by a watch. */
export async function configMapCorefile(client: HttpClient, key: string): Promise<CorefileSource> {
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

/** The Corefile as a file on disk. */
export function fileCorefile(file: string): CorefileSource {
  return { read: () => readFile(file, 'utf8'), stop: () => undefined };
}
