// The dynamic configuration, in Traefik's shape: routers (rule + entrypoints + middlewares ->
// service), services (load balancers over servers) and middlewares, plus the TLS certificates
// the providers found. Providers build it from watched objects (pure); the router table and the
// proxy are built from it and swapped as a whole. The API on the traefik entrypoint shows it as is.

export type ProviderName = 'kubernetes' | 'kubernetescrd' | 'file' | 'internal';

export interface RouterTls {
  /** only informative: certificates are chosen by SNI from the whole store */
  secretName?: string;
  options?: string;
}

export interface RouterConfig {
  /** fully qualified, e.g. default-myingress-example-com-bar@kubernetes */
  name: string;
  provider: ProviderName;
  entryPoints: string[];
  rule: string;
  /** 0 = Traefik's default: the length of the rule string */
  priority: number;
  /** fully qualified service name */
  service: string;
  /** fully qualified middleware names, applied in order */
  middlewares: string[];
  /** set: the router serves TLS requests only; unset: plain requests only */
  tls?: RouterTls;
  /** the Ingress this router came from, for access logs */
  origin?: { namespace: string; ingress: string; service: string; servicePort: string };
}

export interface ServerConfig {
  url: string;
  weight?: number;
  /** serving but terminating: only sticky traffic still reaches it */
  fenced?: boolean;
}

export interface StickyCookie {
  name?: string;
  secure?: boolean;
  httpOnly?: boolean;
  sameSite?: 'none' | 'lax' | 'strict' | '';
  maxAge?: number;
  path?: string;
  domain?: string;
}

export interface HealthCheckConfig {
  path: string;
  /** Go duration strings as Traefik takes them ('10s', '500ms') */
  interval?: string;
  timeout?: string;
  /** expected status; default any 2xx/3xx */
  status?: number;
  method?: string;
  hostname?: string;
  headers?: Record<string, string>;
}

export interface PassiveHealthCheckConfig {
  failureWindow?: string;
  maxFailedAttempts?: number;
}

export interface LoadBalancerConfig {
  servers: ServerConfig[];
  strategy: 'wrr';
  passHostHeader: boolean;
  sticky?: { cookie: StickyCookie };
  healthCheck?: HealthCheckConfig;
  passiveHealthCheck?: PassiveHealthCheckConfig;
}

export interface ServiceConfig {
  name: string;
  provider: ProviderName;
  loadBalancer: LoadBalancerConfig;
  /** why the service has no servers (missing Service, no endpoints, ...) */
  error?: string;
}

export interface StripPrefixSpec {
  prefixes: string[];
}
export interface AddPrefixSpec {
  prefix: string;
}
export interface RedirectSchemeSpec {
  scheme?: string;
  port?: string;
  permanent?: boolean;
}
export interface RedirectRegexSpec {
  regex: string;
  replacement: string;
  permanent?: boolean;
}
export interface HeadersSpec {
  customRequestHeaders?: Record<string, string>;
  customResponseHeaders?: Record<string, string>;
  accessControlAllowOriginList?: string[];
  accessControlAllowMethods?: string[];
  accessControlAllowHeaders?: string[];
  accessControlMaxAge?: number;
  stsSeconds?: number;
  frameDeny?: boolean;
  contentTypeNosniff?: boolean;
}
export interface BasicAuthSpec {
  /** "user:hash" with an htpasswd hash: $apr1$, {SHA} or plain text */
  users: string[];
  realm?: string;
  headerField?: string;
  removeHeader?: boolean;
}
export interface RateLimitSpec {
  average: number;
  period?: string;
  burst?: number;
}
export interface RetrySpec {
  attempts: number;
  initialInterval?: string;
}
export interface CircuitBreakerSpec {
  expression: string;
  checkPeriod?: string;
  fallbackDuration?: string;
  recoveryDuration?: string;
  responseCode?: number;
}
export interface IPAllowListSpec {
  sourceRange: string[];
  rejectStatusCode?: number;
}

/** Exactly one key set, as in Traefik's Middleware spec. */
export interface MiddlewareSpec {
  stripPrefix?: StripPrefixSpec;
  addPrefix?: AddPrefixSpec;
  redirectScheme?: RedirectSchemeSpec;
  redirectRegex?: RedirectRegexSpec;
  headers?: HeadersSpec;
  basicAuth?: BasicAuthSpec;
  rateLimit?: RateLimitSpec;
  retry?: RetrySpec;
  circuitBreaker?: CircuitBreakerSpec;
  ipAllowList?: IPAllowListSpec;
}

export interface MiddlewareConfig {
  name: string;
  provider: ProviderName;
  spec: MiddlewareSpec;
}

export interface CertificateConfig {
  /** namespace/name of the Secret, or 'default' */
  source: string;
  certPem: string;
  keyPem: string;
}

export interface DynamicConfig {
  routers: RouterConfig[];
  services: ServiceConfig[];
  middlewares: MiddlewareConfig[];
  certificates: CertificateConfig[];
  /** problems found while building (missing Secret, foreign backend kind, ...) for logs/events */
  warnings: string[];
}

export function emptyConfig(): DynamicConfig {
  return { routers: [], services: [], middlewares: [], certificates: [], warnings: [] };
}

/** Matching semantics: Kubernetes Ingress spec (default) or stock Traefik's quirks. */
export type Compat = 'spec' | 'traefik';
