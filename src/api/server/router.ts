// Maps a request path onto what it addresses: a discovery document, or a resource collection,
// object or subresource — /api/v1/namespaces/{ns}/{plural}[/{name}[/{subresource}]] and
// /apis/{group}/{version}/..., cluster-scoped resources without the /namespaces/{ns} part.

import { RESOURCES, type ResourceType } from '../resources.js';
import { subresourcesOf } from './subresources.js';

export type Route =
  | { kind: 'info'; path: '/version' | '/healthz' | '/readyz' | '/livez' }
  | { kind: 'apiVersions' }
  | { kind: 'apiGroups' }
  | { kind: 'apiGroup'; group: string }
  | { kind: 'apiResources'; group: string; version: string }
  | { kind: 'resource'; resource: ResourceType; namespace?: string; name?: string; subresource?: string };

function resourceIn(group: string, version: string, plural: string): ResourceType | undefined {
  return RESOURCES.find((r) => r.group === group && r.version === version && r.plural === plural);
}

function knownGroupVersion(group: string, version?: string): boolean {
  return RESOURCES.some((r) => r.group === group && (version === undefined || r.version === version));
}

/** The route for a path, or undefined when nothing is served there (404). */
export function route(pathname: string): Route | undefined {
  if (pathname === '/version' || pathname === '/healthz' || pathname === '/readyz' || pathname === '/livez') {
    return { kind: 'info', path: pathname };
  }
  let segments: string[];
  try {
    segments = pathname.split('/').filter((s) => s !== '').map(decodeURIComponent);
  } catch {
    return undefined;
  }
  let group: string;
  let version: string;
  let rest: string[];
  if (segments[0] === 'api') {
    if (segments.length === 1) return { kind: 'apiVersions' };
    [group, version, rest] = ['', segments[1], segments.slice(2)];
  } else if (segments[0] === 'apis') {
    if (segments.length === 1) return { kind: 'apiGroups' };
    if (segments.length === 2) return knownGroupVersion(segments[1]) ? { kind: 'apiGroup', group: segments[1] } : undefined;
    [group, version, rest] = [segments[1], segments[2], segments.slice(3)];
  } else {
    return undefined;
  }
  if (!knownGroupVersion(group, version)) return undefined;
  if (rest.length === 0) return { kind: 'apiResources', group, version };
  return resourceRoute(group, version, rest);
}

/** A resource route, when the subresource (if any) is one r has. */
function resourceTarget(r: ResourceType, namespace: string | undefined, name: string | undefined, subresource: string | undefined): Route | undefined {
  if (subresource !== undefined && !subresourcesOf(r).some((s) => s.name === subresource)) return undefined;
  return { kind: 'resource', resource: r, namespace, name, subresource };
}

function resourceRoute(group: string, version: string, rest: string[]): Route | undefined {
  // namespaces/{ns}/{plural}/... addresses a namespaced resource; namespaces[/{name}[/{sub}]] the Namespaces themselves
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    const r = resourceIn(group, version, rest[2]);
    if (r?.namespaced) {
      if (rest.length > 5) return undefined;
      return resourceTarget(r, rest[1], rest[3], rest[4]);
    }
  }
  const r = resourceIn(group, version, rest[0]);
  if (!r || rest.length > 3) return undefined;
  if (r.namespaced && rest.length > 1) return undefined;
  return resourceTarget(r, undefined, rest[1], rest[2]);
}
