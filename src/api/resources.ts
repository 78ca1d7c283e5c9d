// The resource types the API serves: where each lives in the URL space, whether it is namespaced,
// and the names kubectl users type for it (`get po`, `get svc`, `get deploy`, ...).

export interface ResourceType {
  /** '' for the core group */
  group: string;
  version: string;
  kind: string;
  /** URL segment and storage prefix, e.g. 'pods', 'endpointslices' */
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
}

export const RESOURCES: readonly ResourceType[] = [
  { group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', singular: 'namespace', namespaced: false, shortNames: ['ns'] },
  { group: '', version: 'v1', kind: 'Node', plural: 'nodes', singular: 'node', namespaced: false, shortNames: ['no'] },
  { group: '', version: 'v1', kind: 'Pod', plural: 'pods', singular: 'pod', namespaced: true, shortNames: ['po'] },
  { group: '', version: 'v1', kind: 'Service', plural: 'services', singular: 'service', namespaced: true, shortNames: ['svc'] },
  { group: '', version: 'v1', kind: 'Secret', plural: 'secrets', singular: 'secret', namespaced: true, shortNames: [] },
  { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', singular: 'configmap', namespaced: true, shortNames: ['cm'] },
  { group: '', version: 'v1', kind: 'Event', plural: 'events', singular: 'event', namespaced: true, shortNames: ['ev'] },
  { group: 'discovery.k8s.io', version: 'v1', kind: 'EndpointSlice', plural: 'endpointslices', singular: 'endpointslice', namespaced: true, shortNames: [] },
  { group: 'apps', version: 'v1', kind: 'Deployment', plural: 'deployments', singular: 'deployment', namespaced: true, shortNames: ['deploy'] },
  { group: 'apps', version: 'v1', kind: 'ReplicaSet', plural: 'replicasets', singular: 'replicaset', namespaced: true, shortNames: ['rs'] },
  { group: 'networking.k8s.io', version: 'v1', kind: 'Ingress', plural: 'ingresses', singular: 'ingress', namespaced: true, shortNames: ['ing'] },
  { group: 'networking.k8s.io', version: 'v1', kind: 'IngressClass', plural: 'ingressclasses', singular: 'ingressclass', namespaced: false, shortNames: [] },
  // Traefik's CRDs (traefik.io/v1alpha1); they define no short names.
  { group: 'traefik.io', version: 'v1alpha1', kind: 'IngressRoute', plural: 'ingressroutes', singular: 'ingressroute', namespaced: true, shortNames: [] },
  { group: 'traefik.io', version: 'v1alpha1', kind: 'Middleware', plural: 'middlewares', singular: 'middleware', namespaced: true, shortNames: [] },
  { group: 'traefik.io', version: 'v1alpha1', kind: 'TLSOption', plural: 'tlsoptions', singular: 'tlsoption', namespaced: true, shortNames: [] },
];

export function apiVersionOf(r: ResourceType): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

/** The resource for an object's apiVersion + kind, or undefined when the API does not serve it. */
export function resourceForKind(apiVersion: string, kind: string): ResourceType | undefined {
  return RESOURCES.find((r) => r.kind === kind && apiVersionOf(r) === apiVersion);
}

/**
 * The resource a user means by a word on the command line: plural, singular, short name, kind,
 * or `plural.group` (`get deployments.apps`), case-insensitively as kubectl does.
 */
export function resourceForName(word: string): ResourceType | undefined {
  const w = word.toLowerCase();
  return RESOURCES.find(
    (r) =>
      r.plural === w ||
      r.singular === w ||
      r.kind.toLowerCase() === w ||
      r.shortNames.includes(w) ||
      (r.group !== '' && (`${r.plural}.${r.group}` === w || `${r.singular}.${r.group}` === w)),
  );
}

/** The URL path of a collection or one object: /api/v1/namespaces/ns/pods[/name]. */
export function resourcePath(r: ResourceType, namespace?: string, name?: string): string {
  const base = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  const ns = r.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  const tail = name ? `/${encodeURIComponent(name)}` : '';
  return `${base}${ns}/${r.plural}${tail}`;
}

/** Storage key of an object: /<group>/<plural>/<ns>/<name>; cluster-scoped ones have no ns part. */
export function storageKey(r: ResourceType, namespace: string | undefined, name: string): string {
  return `${storagePrefix(r, namespace)}${name}`;
}

/** Prefix that every key of this resource (in this namespace, when given) starts with. */
export function storagePrefix(r: ResourceType, namespace?: string): string {
  const g = r.group || 'core';
  if (!r.namespaced) return `/${g}/${r.plural}/`;
  return namespace ? `/${g}/${r.plural}/${namespace}/` : `/${g}/${r.plural}/`;
}
