// The resource types the controllers work with, looked up once from the API's registry.

import { RESOURCES, type ResourceType } from '../api/resources.js';

function resource(group: string, plural: string): ResourceType {
  const r = RESOURCES.find((x) => x.group === group && x.plural === plural);
  if (!r) throw new Error(`resource ${plural}.${group} is not registered`);
  return r;
}

export const NAMESPACES = resource('', 'namespaces');
export const NODES = resource('', 'nodes');
export const PODS = resource('', 'pods');
export const SERVICES = resource('', 'services');
export const ENDPOINT_SLICES = resource('discovery.k8s.io', 'endpointslices');
export const DEPLOYMENTS = resource('apps', 'deployments');
export const REPLICA_SETS = resource('apps', 'replicasets');
