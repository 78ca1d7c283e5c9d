// How every component talks to the API: a Kubernetes-shaped REST client. Components never share
// memory with the API server; they go through this interface (HTTP over the cluster's Unix socket,
// or TCP with a bearer token).

import type { ResourceType } from './resources.js';
import type { KubeObject, Namespace, ObjectList, Status, WatchEvent } from './types.js';

export interface ListOptions {
  /** e.g. 'app=web,tier!=db' */
  labelSelector?: string;
  /** only metadata.name=X (and metadata.namespace=X) are supported, as for most resources */
  fieldSelector?: string;
}

export interface WatchOptions extends ListOptions {
  /** resume after this resourceVersion; '' or undefined = from now */
  resourceVersion?: string;
  allowWatchBookmarks?: boolean;
  timeoutSeconds?: number;
}

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
}

export interface WatchHandle {
  stop(): void;
  /** Settles when the stream ends: resolves on a clean end or stop(), rejects with ApiError (e.g. 410) or a transport error. */
  done: Promise<void>;
}

export interface Client {
  get<T extends KubeObject>(r: ResourceType, namespace: string | undefined, name: string): Promise<T>;
  list<T extends KubeObject>(r: ResourceType, namespace?: string, opts?: ListOptions): Promise<ObjectList<T>>;
  create<T extends KubeObject>(r: ResourceType, namespace: string | undefined, obj: T): Promise<T>;
  /** PUT the whole object; its metadata.resourceVersion, when set, is a precondition (409 on mismatch). */
  update<T extends KubeObject>(r: ResourceType, namespace: string | undefined, obj: T): Promise<T>;
  /** PUT to the /status subresource: only .status is taken from obj. */
  updateStatus<T extends KubeObject>(r: ResourceType, namespace: string | undefined, obj: T): Promise<T>;
  /** JSON merge patch (RFC 7386), as `kubectl patch --type merge`. */
  patch<T extends KubeObject>(r: ResourceType, namespace: string | undefined, name: string, patch: unknown): Promise<T>;
  /** Merge patch of the /status subresource. */
  patchStatus<T extends KubeObject>(r: ResourceType, namespace: string | undefined, name: string, patch: unknown): Promise<T>;
  /** Returns the object (when deletion is graceful or blocked by finalizers) or a Success Status. */
  delete(r: ResourceType, namespace: string | undefined, name: string, opts?: DeleteOptions): Promise<KubeObject | Status>;
  /** POST pods/{name}/binding, as the scheduler does. */
  bindPod(namespace: string, name: string, nodeName: string): Promise<void>;
  watch<T extends KubeObject>(r: ResourceType, namespace: string | undefined, opts: WatchOptions, onEvent: (e: WatchEvent<T>) => void): WatchHandle;
  /** PUT namespaces/{name}/finalize with these spec.finalizers, as the namespace controller's last step. */
  finalizeNamespace(name: string, finalizers: string[]): Promise<Namespace>;
}
