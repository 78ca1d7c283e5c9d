// The write path of every object, between the HTTP handlers and the store: server-owned fields,
// defaulting, validation, ClusterIP/NodePort allocation for Services, optimistic concurrency with
// retries for read-modify-write requests, and deletion (graceful, finalizers, namespace termination).

import type { ClusterConfig } from '../cluster.js';
import { ApiError, alreadyExists, badRequest, conflict, forbiddenError, gone, invalid, notFound } from '../errors.js';
import { applyDefaults } from '../defaults.js';
import { prepareServiceUpdate, type AllocationResult, type ServiceAllocator } from '../registry/service-allocation.js';
import { apiVersionOf, RESOURCES, storageKey, storagePrefix, type ResourceType } from '../resources.js';
import { StoreError, type Store } from '../store/store.js';
import type { KubeObject, Namespace, Service } from '../types.js';
import { validateObject } from '../validation/index.js';
import { checkFieldTypes } from './field-types.js';
import { KeyLock } from './key-lock.js';
import { clone, generatedName, objectName, qualifiedResource, revisionOf } from './objects.js';
import { deletionPlan, prepareForCreate, removeOnUpdate, specChanged } from './strategy.js';

const NAMESPACES = RESOURCES.find((r) => r.kind === 'Namespace') as ResourceType;

export interface DeleteRequest {
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
}

/** `Deployment.apps`, `Pod`: the kind as validation errors name it (GroupKind.String()). */
export function qualifiedKind(r: ResourceType): string {
  return r.group ? `${r.kind}.${r.group}` : r.kind;
}

/**
 * Fills apiVersion/kind when absent; 400 when the body is a different type than the URL addresses
 * or a field has the wrong JSON type for the Go type it decodes into.
 */
export function checkTypeMeta(r: ResourceType, body: unknown): KubeObject {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw badRequest(`couldn't get version/kind; json parse error: the body is not a JSON object`);
  }
  const obj = body as KubeObject;
  const expected = apiVersionOf(r);
  obj.apiVersion ||= expected;
  obj.kind ||= r.kind;
  if (obj.apiVersion !== expected) {
    throw badRequest(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${expected})`);
  }
  if (obj.kind !== r.kind) throw badRequest(`${obj.kind} in version "${r.version}" cannot be handled as a ${r.kind}`);
  checkFieldTypes(r, obj);
  obj.metadata ??= {};
  return obj;
}

export class ObjectRegistry {
  private readonly locks = new KeyLock();

  constructor(
    private readonly store: Store,
    private readonly allocator: ServiceAllocator,
    private readonly config: ClusterConfig,
  ) {}

  get(r: ResourceType, namespace: string | undefined, name: string): KubeObject {
    const obj = this.store.get(storageKey(r, namespace, name));
    if (!obj) throw notFound(qualifiedResource(r), name);
    return obj;
  }

  /** Objects of r (in namespace, when given) passing filter, sorted by namespace then name. */
  list(r: ResourceType, namespace: string | undefined, filter: (o: KubeObject) => boolean): { items: KubeObject[]; revision: number } {
    const { items, revision } = this.store.list(storagePrefix(r, namespace));
    const selected = items.filter(filter).map((o) => ({ ...o, apiVersion: apiVersionOf(r), kind: r.kind }));
    selected.sort((a, b) => compareStrings(a.metadata.namespace ?? '', b.metadata.namespace ?? '') || compareStrings(objectName(a), objectName(b)));
    return { items: selected, revision };
  }

  async create(r: ResourceType, namespace: string | undefined, body: unknown): Promise<KubeObject> {
    const obj = checkTypeMeta(r, body);
    if (r.namespaced) {
      if (obj.metadata.namespace && obj.metadata.namespace !== namespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      obj.metadata.namespace = namespace;
      this.checkNamespaceOpen(r, namespace ?? '', obj.metadata.name ?? '');
    } else {
      delete obj.metadata.namespace;
    }
    const generate = !obj.metadata.name && !!obj.metadata.generateName;
    for (let attempt = 1; ; attempt++) {
      // the write path changes the object: a retry starts again from a copy of the body
      const candidate = generate ? clone(obj) : obj;
      if (generate) candidate.metadata.name = generatedName(candidate.metadata.generateName ?? '');
      try {
        return await this.createOnce(r, candidate);
      } catch (e) {
        // a generated name that collides is drawn again, as the API server's retry does
        if (!(generate && e instanceof ApiError && e.reason === 'AlreadyExists' && attempt < 8)) throw e;
      }
    }
  }

  private async createOnce(r: ResourceType, obj: KubeObject): Promise<KubeObject> {
    applyDefaults(r, obj);
    prepareForCreate(r, obj);
    const name = objectName(obj);
    // validation reports a missing name (metadata.name: Required value)
    const errs = validateObject(r, obj, undefined, { config: this.config });
    if (errs.length > 0) throw invalid(qualifiedKind(r), name, errs);
    const allocation = this.allocate(r, obj, undefined);
    try {
      const created = await this.store.create(storageKey(r, obj.metadata.namespace, name), obj);
      allocation?.commit();
      return created;
    } catch (e) {
      allocation?.rollback();
      throw this.storeError(r, name, e);
    }
  }

  /**
   * Read-modify-write of one object: change gets the stored object and returns the new one. A
   * resourceVersion on the new object is the client's precondition (409 when stale). Writes to one
   * object take turns, so each sees the one before and no update is lost.
   */
  async update(
    r: ResourceType,
    namespace: string | undefined,
    name: string,
    change: (current: KubeObject) => KubeObject,
  ): Promise<KubeObject> {
    return this.locks.run(storageKey(r, namespace, name), async () => {
      const current = this.get(r, namespace, name);
      const next = checkTypeMeta(r, change(clone(current)));
      this.checkIdentity(r, next, current);
      const precondition = revisionOf(next);
      if (precondition !== undefined && precondition !== revisionOf(current)) throw conflict(qualifiedResource(r), name);
      applyDefaults(r, next);
      // the Service registry's beginUpdate runs before validation: a PUT without clusterIP keeps it
      if (r.kind === 'Service') prepareServiceUpdate(next as Service, current as Service);
      // compared after defaulting, so leaving out defaulted or allocated fields is no spec change
      if (specChanged(next, current)) next.metadata.generation = (current.metadata.generation ?? 0) + 1;
      const errs = validateObject(r, next, current, { config: this.config });
      if (errs.length > 0) throw invalid(qualifiedKind(r), name, errs);
      if (removeOnUpdate(r, next, current)) return this.remove(r, current);
      return this.write(r, next, current, true);
    });
  }

  /**
   * A write straight to storage, past the kind's update strategy: no defaulting, validation,
   * generation or allocation. Upstream's pods/binding writes spec.nodeName this way, since a
   * validated Pod update may not change the spec. change gets the stored (frozen) object.
   */
  async updateInStorage(r: ResourceType, namespace: string | undefined, name: string, change: (current: KubeObject) => KubeObject): Promise<KubeObject> {
    return this.locks.run(storageKey(r, namespace, name), async () => {
      const current = this.get(r, namespace, name);
      return this.write(r, change(current), current, false);
    });
  }

  /** DELETE: removes the object, or marks it for deletion (graceful Pods, finalizers, Namespaces). */
  async delete(r: ResourceType, namespace: string | undefined, name: string, req: DeleteRequest = {}): Promise<KubeObject> {
    return this.locks.run(storageKey(r, namespace, name), async () => {
      const current = this.get(r, namespace, name);
      checkPreconditions(r, current, req);
      const plan = deletionPlan(r, current, req.gracePeriodSeconds);
      switch (plan.action) {
        case 'keep':
          return current;
        case 'mark':
          return this.write(r, plan.next, current, false);
        case 'remove':
          return this.remove(r, current);
      }
    });
  }

  private async write(r: ResourceType, next: KubeObject, current: KubeObject, allocate: boolean): Promise<KubeObject> {
    const name = objectName(current);
    const allocation = allocate ? this.allocate(r, next, current) : undefined;
    try {
      const stored = await this.store.update(storageKey(r, current.metadata.namespace, name), next, revisionOf(current));
      allocation?.commit();
      return stored;
    } catch (e) {
      allocation?.rollback();
      throw this.storeError(r, name, e);
    }
  }

  private async remove(r: ResourceType, current: KubeObject): Promise<KubeObject> {
    const name = objectName(current);
    try {
      const removed = await this.store.delete(storageKey(r, current.metadata.namespace, name), revisionOf(current));
      if (r.kind === 'Service') this.allocator.release(removed as Service);
      return removed;
    } catch (e) {
      throw this.storeError(r, name, e);
    }
  }

  private allocate(r: ResourceType, obj: KubeObject, old: KubeObject | undefined): AllocationResult | undefined {
    if (r.kind !== 'Service') return undefined;
    const result = this.allocator.allocate(obj as Service, old as Service | undefined);
    if (result.errors.length > 0) throw invalid(qualifiedKind(r), objectName(obj), result.errors);
    return result;
  }

  private checkIdentity(r: ResourceType, next: KubeObject, current: KubeObject): void {
    const name = objectName(current);
    if (next.metadata.name !== name) {
      throw badRequest(`the name of the object (${next.metadata.name ?? ''}) does not match the name on the URL (${name})`);
    }
    if (r.namespaced) {
      if (next.metadata.namespace && next.metadata.namespace !== current.metadata.namespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      next.metadata.namespace = current.metadata.namespace;
    } else {
      delete next.metadata.namespace;
    }
  }

  /** New objects need an existing namespace that is not being terminated (NamespaceLifecycle admission). */
  private checkNamespaceOpen(r: ResourceType, namespace: string, name: string): void {
    const ns = this.store.get(storageKey(NAMESPACES, undefined, namespace)) as Namespace | undefined;
    if (!ns) throw notFound('namespaces', namespace);
    if (ns.status?.phase === 'Terminating' || ns.metadata.deletionTimestamp) {
      throw forbiddenError(`${qualifiedResource(r)} "${name}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`);
    }
  }

  /** A StoreError as the Status the client sees. */
  private storeError(r: ResourceType, name: string, e: unknown): unknown {
    if (!(e instanceof StoreError)) return e;
    switch (e.kind) {
      case 'NotFound':
        return notFound(qualifiedResource(r), name);
      case 'AlreadyExists':
        return alreadyExists(qualifiedResource(r), name);
      case 'Conflict':
        return conflict(qualifiedResource(r), name);
      case 'Gone':
        return gone(e.message);
    }
  }
}

function checkPreconditions(r: ResourceType, current: KubeObject, req: DeleteRequest): void {
  const p = req.preconditions;
  const name = objectName(current);
  if (p?.uid && p.uid !== current.metadata.uid) {
    throw conflict(qualifiedResource(r), name, `Precondition failed: UID in precondition: ${p.uid}, UID in object meta: ${current.metadata.uid}`);
  }
  if (p?.resourceVersion && p.resourceVersion !== current.metadata.resourceVersion) {
    throw conflict(
      qualifiedResource(r),
      name,
      `Precondition failed: ResourceVersion in precondition: ${p.resourceVersion}, ResourceVersion in object meta: ${current.metadata.resourceVersion}`,
    );
  }
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
