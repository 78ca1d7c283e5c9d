// traefik.io/v1alpha1 IngressRoute and Middleware, as far as the CRD provider reads them. The API
// object model may not serve these kinds yet; the provider takes them as plain objects.

import type { KubeObject } from '../../api/types.js';
import type { HealthCheckConfig, MiddlewareSpec, StickyCookie } from './types.js';

export interface IngressRouteService {
  kind?: 'Service';
  name: string;
  namespace?: string;
  port: number | string;
  weight?: number;
  passHostHeader?: boolean;
  sticky?: { cookie?: StickyCookie };
  healthCheck?: HealthCheckConfig;
}

export interface IngressRouteRoute {
  kind?: 'Rule';
  match: string;
  priority?: number;
  middlewares?: { name: string; namespace?: string }[];
  services?: IngressRouteService[];
}

export interface IngressRoute extends KubeObject {
  spec: {
    ingressClassName?: string;
    entryPoints?: string[];
    routes: IngressRouteRoute[];
    tls?: { secretName?: string; options?: { name: string } };
  };
}

export interface Middleware extends KubeObject {
  spec: MiddlewareSpec;
}
