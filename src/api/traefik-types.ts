// Traefik's own kinds (traefik.io/v1alpha1, the v3 CRDs): IngressRoute, Middleware and TLSOption.
// Field names follow Traefik's CRD schemas so that manifests written for a real Traefik apply
// unchanged. Only the fields kemu's ingress controller reads are typed; the rest is kept as-is.

import type { KubeObject } from './types.js';

export const TRAEFIK_API_VERSION = 'traefik.io/v1alpha1';

/** A reference to a Middleware; namespace defaults to the referring object's. */
export interface MiddlewareRef {
  name: string;
  namespace?: string;
}

export interface StickyCookieSpec {
  name?: string;
  secure?: boolean;
  httpOnly?: boolean;
  sameSite?: string;
  maxAge?: number;
  path?: string;
}

export interface ServerHealthCheckSpec {
  path?: string;
  /** Go duration ('10s') or seconds */
  interval?: number | string;
  timeout?: number | string;
  scheme?: string;
  port?: number;
  hostname?: string;
  method?: string;
  status?: number;
  headers?: Record<string, string>;
  followRedirects?: boolean;
}

/** One upstream of a route: a Kubernetes Service (by port number or name) or a TraefikService. */
export interface RouteService {
  kind?: 'Service' | 'TraefikService';
  name: string;
  namespace?: string;
  port?: number | string;
  weight?: number;
  scheme?: string;
  strategy?: string;
  passHostHeader?: boolean;
  nativeLB?: boolean;
  sticky?: { cookie?: StickyCookieSpec };
  healthCheck?: ServerHealthCheckSpec;
  serversTransport?: string;
  responseForwarding?: { flushInterval?: string };
  [extra: string]: unknown;
}

export interface Route {
  /** 'Rule' is the only kind; the CRD defaults an absent kind to it */
  kind?: 'Rule';
  /** the router rule, e.g. Host(`a.example`) && PathPrefix(`/api`) */
  match: string;
  /** 0 or absent: Traefik's default, the length of the rule */
  priority?: number;
  syntax?: string;
  middlewares?: MiddlewareRef[];
  services?: RouteService[];
  [extra: string]: unknown;
}

export interface IngressRouteTLS {
  secretName?: string;
  options?: MiddlewareRef;
  store?: MiddlewareRef;
  certResolver?: string;
  domains?: { main?: string; sans?: string[] }[];
}

export interface IngressRoute extends KubeObject {
  spec: {
    entryPoints?: string[];
    routes: Route[];
    tls?: IngressRouteTLS;
    [extra: string]: unknown;
  };
}

// ---- Middleware: one of these per object ----------------------------------------------------------

export interface IPStrategy {
  depth?: number;
  excludedIPs?: string[];
  ipv6Subnet?: number;
}

export interface StripPrefixMiddleware {
  prefixes?: string[];
  forceSlash?: boolean;
}

export interface AddPrefixMiddleware {
  prefix?: string;
}

export interface RedirectSchemeMiddleware {
  scheme?: string;
  /** a string in Traefik's schema ("8443") */
  port?: string;
  permanent?: boolean;
}

export interface RedirectRegexMiddleware {
  regex?: string;
  replacement?: string;
  permanent?: boolean;
}

export interface HeadersMiddleware {
  customRequestHeaders?: Record<string, string>;
  customResponseHeaders?: Record<string, string>;
  accessControlAllowCredentials?: boolean;
  accessControlAllowHeaders?: string[];
  accessControlAllowMethods?: string[];
  accessControlAllowOriginList?: string[];
  accessControlAllowOriginListRegex?: string[];
  accessControlExposeHeaders?: string[];
  accessControlMaxAge?: number;
  addVaryHeader?: boolean;
  allowedHosts?: string[];
  hostsProxyHeaders?: string[];
  sslProxyHeaders?: Record<string, string>;
  stsSeconds?: number;
  stsIncludeSubdomains?: boolean;
  stsPreload?: boolean;
  forceSTSHeader?: boolean;
  frameDeny?: boolean;
  customFrameOptionsValue?: string;
  contentTypeNosniff?: boolean;
  browserXssFilter?: boolean;
  customBrowserXSSValue?: string;
  contentSecurityPolicy?: string;
  contentSecurityPolicyReportOnly?: string;
  publicKey?: string;
  referrerPolicy?: string;
  permissionsPolicy?: string;
  isDevelopment?: boolean;
}

/** Users come from a Secret in the Middleware's namespace (kubernetes.io/basic-auth, or a `users` key of htpasswd lines). */
export interface BasicAuthMiddleware {
  secret?: string;
  realm?: string;
  removeHeader?: boolean;
  headerField?: string;
}

export interface RateLimitMiddleware {
  average?: number;
  /** Go duration ('1s') or seconds */
  period?: number | string;
  burst?: number;
  sourceCriterion?: { ipStrategy?: IPStrategy; requestHeaderName?: string; requestHost?: boolean };
}

export interface RetryMiddleware {
  attempts?: number;
  initialInterval?: number | string;
}

export interface CircuitBreakerMiddleware {
  expression?: string;
  checkPeriod?: number | string;
  fallbackDuration?: number | string;
  recoveryDuration?: number | string;
  responseCode?: number;
}

export interface IPAllowListMiddleware {
  sourceRange?: string[];
  ipStrategy?: IPStrategy;
  rejectStatusCode?: number;
}

export interface MiddlewareSpec {
  stripPrefix?: StripPrefixMiddleware;
  addPrefix?: AddPrefixMiddleware;
  redirectScheme?: RedirectSchemeMiddleware;
  redirectRegex?: RedirectRegexMiddleware;
  headers?: HeadersMiddleware;
  basicAuth?: BasicAuthMiddleware;
  rateLimit?: RateLimitMiddleware;
  retry?: RetryMiddleware;
  circuitBreaker?: CircuitBreakerMiddleware;
  ipAllowList?: IPAllowListMiddleware;
}

export interface Middleware extends KubeObject {
  spec: MiddlewareSpec;
}

// ---- TLSOption ------------------------------------------------------------------------------------

export interface TLSOption extends KubeObject {
  spec: {
    minVersion?: string;
    maxVersion?: string;
    cipherSuites?: string[];
    curvePreferences?: string[];
    clientAuth?: { secretNames?: string[]; clientAuthType?: string };
    sniStrict?: boolean;
    alpnProtocols?: string[];
  };
}
