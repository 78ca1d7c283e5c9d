// Every provider's output merged into the one dynamic configuration the router table is built from.

import type { IngressRoute, Middleware } from '../../api/traefik-types.js';
import type { EndpointSlice, Ingress, IngressClass, Secret, Service } from '../../api/types.js';
import { crdConfig } from './crd-provider.js';
import { CONTROLLER_NAME, selectClasses } from './ingress-class.js';
import { ingressConfig } from './ingress-provider.js';
import type { Compat, DynamicConfig } from './types.js';

/** What the providers watch; tests hand it in directly, a cluster fills it from informers. */
export interface ClusterObjects {
  ingresses: readonly Ingress[];
  ingressClasses: readonly IngressClass[];
  services: readonly Service[];
  endpointSlices: readonly EndpointSlice[];
  secrets: readonly Secret[];
  ingressRoutes?: readonly IngressRoute[];
  middlewares?: readonly Middleware[];
}

export interface BuildOptions {
  compat: Compat;
  controller?: string;
  defaultEntryPoints: string[];
  tlsEntryPoints: string[];
  /** Traefik's file provider: routers, services and middlewares given as they are */
  file?: Partial<DynamicConfig>;
}

export function buildDynamicConfig(objects: ClusterObjects, opts: BuildOptions): DynamicConfig {
  const classes = selectClasses(objects.ingressClasses, opts.controller ?? CONTROLLER_NAME);
  const parts: Partial<DynamicConfig>[] = [
    ingressConfig({ ...objects, classes }, opts),
    crdConfig(
      { ingressRoutes: objects.ingressRoutes ?? [], middlewares: objects.middlewares ?? [], services: objects.services, endpointSlices: objects.endpointSlices, secrets: objects.secrets, ourClasses: classes.ours },
      opts.defaultEntryPoints,
      opts.tlsEntryPoints,
    ),
    opts.file ?? {},
  ];
  return {
    routers: parts.flatMap((p) => p.routers ?? []),
    services: parts.flatMap((p) => p.services ?? []),
    middlewares: parts.flatMap((p) => p.middlewares ?? []),
    certificates: parts.flatMap((p) => p.certificates ?? []),
    warnings: parts.flatMap((p) => p.warnings ?? []),
  };
}
