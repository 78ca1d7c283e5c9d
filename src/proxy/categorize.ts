// Which endpoints a service port uses (upstream: pkg/proxy/topology.go CategorizeEndpoints).
// Ready endpoints win; when there are none, serving-and-terminating endpoints are used so that
// connections still land during a rolling update. Not-serving endpoints are never used.

import type { EndpointInfo } from './endpoints.js';
import { usesClusterEndpoints, usesLocalEndpoints, type ServicePortInfo } from './service-port.js';

export interface CategorizedEndpoints {
  /** Endpoints for Cluster traffic policy; empty when no policy is Cluster. */
  clusterEndpoints: EndpointInfo[];
  /** Endpoints on this node for Local traffic policy; empty when no policy is Local. */
  localEndpoints: EndpointInfo[];
  /** The union of both lists: the endpoints that get a chain/rule of their own. */
  allReachable: EndpointInfo[];
  /** Some endpoint anywhere is usable (ready, or serving and terminating). */
  hasAnyEndpoints: boolean;
}

const servingTerminating = (ep: EndpointInfo): boolean => ep.serving && ep.terminating;

export function categorizeEndpoints(endpoints: readonly EndpointInfo[], svc: ServicePortInfo): CategorizedEndpoints {
  let hasAnyEndpoints = false;
  let hasLocalReady = false;
  let hasLocalServingTerminating = false;
  for (const ep of endpoints) {
    if (ep.ready) {
      hasAnyEndpoints = true;
      if (ep.isLocal) hasLocalReady = true;
    } else if (servingTerminating(ep)) {
      hasAnyEndpoints = true;
      if (ep.isLocal) hasLocalServingTerminating = true;
    }
  }

  let clusterEndpoints: EndpointInfo[] = [];
  if (usesClusterEndpoints(svc)) {
    clusterEndpoints = endpoints.filter((ep) => ep.ready);
    if (clusterEndpoints.length === 0) clusterEndpoints = endpoints.filter(servingTerminating);
  }
  if (!usesLocalEndpoints(svc)) {
    return { clusterEndpoints, localEndpoints: [], allReachable: clusterEndpoints, hasAnyEndpoints };
  }

  let localEndpoints: EndpointInfo[] = [];
  if (hasLocalReady) localEndpoints = endpoints.filter((ep) => ep.isLocal && ep.ready);
  else if (hasLocalServingTerminating) localEndpoints = endpoints.filter((ep) => ep.isLocal && servingTerminating(ep));
  if (!usesClusterEndpoints(svc)) {
    return { clusterEndpoints, localEndpoints, allReachable: localEndpoints, hasAnyEndpoints };
  }
  const union = new Set([...clusterEndpoints, ...localEndpoints]);
  // Keep the sorted order of the input list.
  const allReachable = endpoints.filter((ep) => union.has(ep));
  return { clusterEndpoints, localEndpoints, allReachable, hasAnyEndpoints };
}
