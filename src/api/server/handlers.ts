// The REST verbs: maps a routed request onto the object registry (CRUD and subresources), the
// watch stream, or a discovery document, with the status codes kube-apiserver answers with.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, badRequest, methodNotAllowed } from '../errors.js';
import { mergePatch } from '../merge-patch.js';
import { apiVersionOf, type ResourceType } from '../resources.js';
import type { KubeObject, Pod, Status } from '../types.js';
import { apiGroupDocument, apiGroupList, apiResourceList, apiVersions, versionInfo } from './discovery.js';
import { checkFieldTypes } from './field-types.js';
import { parseJson, readBody, sendJson, sendText } from './http-io.js';
import { applyJsonPatch, JsonPatchError } from './json-patch.js';
import { checkTypeMeta, type DeleteRequest, type ObjectRegistry } from './object-registry.js';
import { route, type Route } from './router.js';
import { objectFilter } from './selectors.js';
import { bindPod, type Binding } from './strategy.js';
import { viewFor, type ObjectView } from './subresources.js';
import type { WatchCache } from './watch-cache.js';
import { serveWatch } from './watch.js';

export interface HandlerContext {
  registry: ObjectRegistry;
  cache: WatchCache;
  bookmarkIntervalMs: number;
}

type ResourceRoute = Extract<Route, { kind: 'resource' }>;

function statusOf(code: number, reason: string, message: string): Status {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

function notServed(): ApiError {
  return new ApiError(statusOf(404, 'NotFound', 'the server could not find the requested resource'));
}

function notAllowed(): ApiError {
  return methodNotAllowed('the server does not allow this method on the requested resource');
}

const PATCH_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json'];

function unsupportedPatchType(): ApiError {
  return new ApiError(
    statusOf(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${PATCH_TYPES.join(', ')}`),
  );
}

export async function handle(ctx: HandlerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://kemu');
  const rt = route(url.pathname);
  if (!rt) throw notServed();
  if (rt.kind === 'resource') return handleResource(ctx, rt, url.searchParams, req, res);
  if (req.method !== 'GET' && req.method !== 'HEAD') throw notAllowed();
  switch (rt.kind) {
    case 'info':
      return rt.path === '/version' ? sendJson(res, 200, versionInfo()) : sendText(res, 200, 'ok');
    case 'apiVersions':
      return sendJson(res, 200, apiVersions());
    case 'apiGroups':
      return sendJson(res, 200, apiGroupList());
    case 'apiGroup':
      return sendJson(res, 200, apiGroupDocument(rt.group));
    case 'apiResources':
      return sendJson(res, 200, apiResourceList(rt.group, rt.version));
  }
}

async function handleResource(ctx: HandlerContext, rt: ResourceRoute, query: URLSearchParams, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { resource: r, namespace, name, subresource } = rt;
  const method = req.method ?? 'GET';
  if (name === undefined) {
    // a namespaced resource across all namespaces can only be read
    if (r.namespaced && namespace === undefined && method !== 'GET') throw notAllowed();
    switch (method) {
      case 'GET':
        return isWatch(query) ? watch(ctx, r, namespace, query, res) : list(ctx, r, namespace, query, res);
      case 'POST':
        return sendJson(res, 201, await ctx.registry.create(r, namespace, parseJson(await readBody(req))));
      case 'DELETE':
        return deleteCollection(ctx, r, namespace, query, req, res);
      default:
        throw notAllowed();
    }
  }
  if (subresource === 'binding' && r.kind === 'Pod') {
    if (method !== 'POST') throw notAllowed();
    return bind(ctx, r, namespace, name, req, res);
  }
  const view = viewFor(r, subresource);
  if (!view) throw notServed();
  switch (method) {
    case 'GET':
      return sendJson(res, 200, view.read(ctx.registry.get(r, namespace, name)));
    case 'PUT': {
      const incoming = bodyAs(r, view, parseJson(await readBody(req)));
      const updated = await ctx.registry.update(r, namespace, name, (current) => view.write(current, incoming));
      return sendJson(res, 200, view.read(updated));
    }
    case 'PATCH': {
      const apply = patcher(req.headers['content-type'] ?? '', parseJson(await readBody(req)));
      const updated = await ctx.registry.update(r, namespace, name, (current) => view.write(current, bodyAs(r, view, apply(view.read(current)))));
      return sendJson(res, 200, view.read(updated));
    }
    case 'DELETE':
      if (subresource !== undefined) throw notAllowed();
      return sendJson(res, 200, await ctx.registry.delete(r, namespace, name, await deleteRequest(req, query)));
    default:
      throw notAllowed();
  }
}

function isWatch(query: URLSearchParams): boolean {
  const w = query.get('watch');
  return w === 'true' || w === '1';
}

function list(ctx: HandlerContext, r: ResourceType, namespace: string | undefined, query: URLSearchParams, res: ServerResponse): void {
  const filter = objectFilter(r, query.get('labelSelector') ?? undefined, query.get('fieldSelector') ?? undefined);
  const { items, revision } = ctx.registry.list(r, namespace, filter);
  sendJson(res, 200, { kind: `${r.kind}List`, apiVersion: apiVersionOf(r), metadata: { resourceVersion: String(revision) }, items });
}

function watch(ctx: HandlerContext, r: ResourceType, namespace: string | undefined, query: URLSearchParams, res: ServerResponse): void {
  const timeout = query.get('timeoutSeconds');
  serveWatch(ctx.cache, res, {
    resource: r,
    namespace,
    filter: objectFilter(r, query.get('labelSelector') ?? undefined, query.get('fieldSelector') ?? undefined),
    resourceVersion: query.get('resourceVersion') ?? undefined,
    allowBookmarks: query.get('allowWatchBookmarks') === 'true',
    timeoutSeconds: timeout === null ? undefined : nonNegativeInteger('timeoutSeconds', timeout),
    bookmarkIntervalMs: ctx.bookmarkIntervalMs,
  });
}

/** DELETE on a collection: deletes every object the selectors pick, returns them as a list. */
async function deleteCollection(
  ctx: HandlerContext,
  r: ResourceType,
  namespace: string | undefined,
  query: URLSearchParams,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const filter = objectFilter(r, query.get('labelSelector') ?? undefined, query.get('fieldSelector') ?? undefined);
  const opts = await deleteRequest(req, query);
  const { items } = ctx.registry.list(r, namespace, filter);
  const deleted: KubeObject[] = [];
  for (const o of items) {
    try {
      deleted.push(await ctx.registry.delete(r, o.metadata.namespace, o.metadata.name ?? '', opts));
    } catch (e) {
      // gone in the meantime: nothing left to delete
      if (!(e instanceof ApiError && e.code === 404)) throw e;
    }
  }
  sendJson(res, 200, { kind: `${r.kind}List`, apiVersion: apiVersionOf(r), metadata: {}, items: deleted });
}

async function bind(ctx: HandlerContext, r: ResourceType, namespace: string | undefined, name: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const binding = parseJson(await readBody(req)) as Binding;
  if (typeof binding !== 'object' || binding === null || binding.kind !== 'Binding') throw badRequest('the body must be a v1 Binding');
  if (binding.metadata?.name !== name) throw badRequest('name in URL does not match name in Binding object');
  if (binding.target?.kind !== undefined && binding.target.kind !== '' && binding.target.kind !== 'Node') {
    throw badRequest(`target.kind: Unsupported value: "${binding.target.kind}": supported values: "Node"`);
  }
  if (!binding.target?.name) throw badRequest('target.name: Required value');
  await ctx.registry.updateInStorage(r, namespace, name, (current) => bindPod(current as Pod, binding));
  sendJson(res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
}

/** A body written through view, type-checked: the resource's own type, or the view's (Scale). */
function bodyAs(r: ResourceType, view: ObjectView, body: unknown): KubeObject {
  if (!view.bodyType) return checkTypeMeta(r, body);
  const obj = body as KubeObject;
  const { apiVersion, kind } = view.bodyType;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('the body must be a JSON object');
  if ((obj.apiVersion && obj.apiVersion !== apiVersion) || (obj.kind && obj.kind !== kind)) {
    throw badRequest(`${obj.kind ?? ''} in version "${obj.apiVersion ?? ''}" cannot be handled as a ${kind}`);
  }
  checkFieldTypes({ kind, version: apiVersion.split('/').pop() ?? apiVersion }, obj);
  obj.metadata ??= {};
  return obj;
}

/** The function that applies a PATCH body to the document, by the request's Content-Type. */
function patcher(contentType: string, patch: unknown): (doc: KubeObject) => unknown {
  const type = contentType.split(';')[0].trim().toLowerCase();
  if (type === 'application/json-patch+json') {
    return (doc) => {
      try {
        return applyJsonPatch(doc, patch);
      } catch (e) {
        if (!(e instanceof JsonPatchError)) throw e;
        if (e.malformed) throw badRequest(e.message);
        throw new ApiError(statusOf(422, 'Invalid', e.message));
      }
    };
  }
  // a strategic merge patch is applied as a JSON merge patch: list merge keys are not modelled
  if (type === 'application/merge-patch+json' || type === 'application/strategic-merge-patch+json') {
    if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) throw badRequest('a merge patch must be a JSON object');
    return (doc) => mergePatch(doc, patch);
  }
  throw unsupportedPatchType();
}

function nonNegativeInteger(param: string, value: string): number {
  if (!/^[0-9]+$/.test(value)) throw badRequest(`${param}: Invalid value: "${value}": must be a non-negative integer`);
  return Number(value);
}

/** DeleteOptions from the JSON body (when sent) and ?gracePeriodSeconds=, the query winning as upstream. */
async function deleteRequest(req: IncomingMessage, query: URLSearchParams): Promise<DeleteRequest> {
  const text = await readBody(req);
  const body = text.trim() === '' ? {} : (parseJson(text) as DeleteRequest);
  if (typeof body !== 'object' || body === null) throw badRequest('the body must be DeleteOptions');
  const grace = query.get('gracePeriodSeconds');
  const gracePeriodSeconds = grace !== null ? nonNegativeInteger('gracePeriodSeconds', grace) : body.gracePeriodSeconds;
  if (gracePeriodSeconds !== undefined && (typeof gracePeriodSeconds !== 'number' || gracePeriodSeconds < 0)) {
    throw badRequest('gracePeriodSeconds must be a non-negative integer');
  }
  return { gracePeriodSeconds, preconditions: body.preconditions };
}
