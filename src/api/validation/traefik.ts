// Validation of Traefik's kinds (traefik.io/v1alpha1 IngressRoute, Middleware, TLSOption). On a real
// cluster these come from Traefik's CRDs, so the API server checks only their OpenAPI schemas (types,
// required fields, enums); the schemas below mirror those. On top of that kemu refuses at admission
// what Traefik itself would only log and drop later: a rule the controller cannot compile, a route
// to a Kubernetes Service without a usable port, a Middleware that sets no type or several.

import { compileRule } from '../../ingress/router/matchers.js';
import { fieldErrors, type FieldError } from '../errors.js';
import type { IngressRoute, Middleware, MiddlewareSpec, TLSOption } from '../traefik-types.js';
import type { ObjectMeta } from '../types.js';
import { arrayOf, bool, checkSchema, int, intOrString, object, oneOf, str, stringMap, strings, type Schema } from './crd-schema.js';
import { nameIsDNSSubdomain, validateObjectMeta, validateObjectMetaUpdate } from './meta.js';
import { isDNS1035Label, isValidCIDR, isValidIP, isValidPortName, isValidPortNum } from './names.js';

// ---- schemas (traefik.io CRDs, v3) ----------------------------------------------------------------

const reference = object({ name: str, namespace: str }, ['name']);

const routeService = object(
  {
    kind: oneOf('Service', 'TraefikService'),
    name: str,
    namespace: str,
    port: intOrString,
    weight: { type: 'integer', minimum: 0 },
    scheme: str,
    strategy: str,
    passHostHeader: bool,
    nativeLB: bool,
    nodePortLB: bool,
    serversTransport: str,
    responseForwarding: object({ flushInterval: str }),
    sticky: object({ cookie: object({ name: str, secure: bool, httpOnly: bool, sameSite: str, maxAge: int, path: str }) }),
    healthCheck: object({
      path: str,
      interval: intOrString,
      timeout: intOrString,
      scheme: str,
      port: int,
      hostname: str,
      method: str,
      mode: str,
      status: int,
      headers: stringMap,
      followRedirects: bool,
    }),
  },
  ['name'],
);

const route = object(
  {
    kind: oneOf('Rule'),
    match: str,
    priority: int,
    syntax: str,
    middlewares: arrayOf(reference),
    services: arrayOf(routeService),
    observability: object({ accessLogs: bool, metrics: bool, tracing: bool }),
  },
  ['match'],
);

const ingressRouteSpec = object(
  {
    entryPoints: strings,
    routes: arrayOf(route),
    tls: object({
      secretName: str,
      options: reference,
      store: reference,
      certResolver: str,
      domains: arrayOf(object({ main: str, sans: strings })),
    }),
  },
  ['routes'],
);

const ipStrategy = object({ depth: int, excludedIPs: strings, ipv6Subnet: int });

/** The middleware types kemu's ingress controller implements, each with its schema. */
const MIDDLEWARE_TYPES: Record<keyof MiddlewareSpec, Schema> = {
  stripPrefix: object({ prefixes: strings, forceSlash: bool }),
  addPrefix: object({ prefix: str }),
  redirectScheme: object({ scheme: str, port: str, permanent: bool }),
  redirectRegex: object({ regex: str, replacement: str, permanent: bool }),
  headers: object({
    customRequestHeaders: stringMap,
    customResponseHeaders: stringMap,
    accessControlAllowCredentials: bool,
    accessControlAllowHeaders: strings,
    accessControlAllowMethods: strings,
    accessControlAllowOriginList: strings,
    accessControlAllowOriginListRegex: strings,
    accessControlExposeHeaders: strings,
    accessControlMaxAge: int,
    addVaryHeader: bool,
    allowedHosts: strings,
    hostsProxyHeaders: strings,
    sslProxyHeaders: stringMap,
    stsSeconds: int,
    stsIncludeSubdomains: bool,
    stsPreload: bool,
    forceSTSHeader: bool,
    frameDeny: bool,
    customFrameOptionsValue: str,
    contentTypeNosniff: bool,
    browserXssFilter: bool,
    customBrowserXSSValue: str,
    contentSecurityPolicy: str,
    contentSecurityPolicyReportOnly: str,
    publicKey: str,
    referrerPolicy: str,
    permissionsPolicy: str,
    isDevelopment: bool,
  }),
  basicAuth: object({ secret: str, realm: str, removeHeader: bool, headerField: str }),
  rateLimit: object({
    average: { type: 'integer', minimum: 0 },
    period: intOrString,
    burst: { type: 'integer', minimum: 0 },
    sourceCriterion: object({ ipStrategy, requestHeaderName: str, requestHost: bool }),
  }),
  retry: object({ attempts: int, initialInterval: intOrString }),
  circuitBreaker: object({ expression: str, checkPeriod: intOrString, fallbackDuration: intOrString, recoveryDuration: intOrString, responseCode: int }),
  ipAllowList: object({ sourceRange: strings, ipStrategy, rejectStatusCode: int }),
};

const MIDDLEWARE_TYPE_NAMES = Object.keys(MIDDLEWARE_TYPES) as (keyof MiddlewareSpec)[];

const tlsOptionSpec = object({
  minVersion: str,
  maxVersion: str,
  cipherSuites: strings,
  curvePreferences: strings,
  clientAuth: object({
    secretNames: strings,
    clientAuthType: oneOf('NoClientCert', 'RequestClientCert', 'RequireAnyClientCert', 'VerifyClientCertIfGiven', 'RequireAndVerifyClientCert'),
  }),
  sniStrict: bool,
  alpnProtocols: strings,
});

const TLS_VERSIONS = ['VersionTLS10', 'VersionTLS11', 'VersionTLS12', 'VersionTLS13'];

// ---- shared -----------------------------------------------------------------------------------------

/** Metadata rules plus `spec` (required, as every Traefik CRD declares) checked against its schema. */
function validateCustomObject(meta: ObjectMeta, spec: unknown, schema: Schema): FieldError[] {
  const errs = validateObjectMeta(meta, true, nameIsDNSSubdomain);
  if (spec === undefined) return [...errs, fieldErrors.required('spec')];
  return [...errs, ...checkSchema(schema, spec, 'spec')];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

// ---- IngressRoute -------------------------------------------------------------------------------------

/** A Kubernetes Service backend needs a DNS-1035 name and a port (number or name) to find endpoints. */
function serviceRefErrors(svc: Record<string, unknown>, path: string): FieldError[] {
  if (svc.kind === 'TraefikService' || typeof svc.name !== 'string') return [];
  const errs = isDNS1035Label(svc.name).map((m) => fieldErrors.invalid(`${path}.name`, svc.name, m));
  const port = svc.port;
  if (port === undefined || port === '' || port === 0) errs.push(fieldErrors.required(`${path}.port`, 'a Kubernetes Service backend needs a port number or name'));
  else if (typeof port === 'number') errs.push(...isValidPortNum(port).map((m) => fieldErrors.invalid(`${path}.port`, port, m)));
  else if (typeof port === 'string' && !/^\d+$/.test(port)) errs.push(...isValidPortName(port).map((m) => fieldErrors.invalid(`${path}.port`, port, m)));
  return errs;
}

/**
 * Why the ingress controller could not compile a rule; undefined when it can. The controller's own
 * compiler, so the API refuses exactly the rules that would never route.
 */
function ruleError(rule: string): string | undefined {
  try {
    compileRule(rule);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

function routeErrors(r: unknown, path: string): FieldError[] {
  if (!isObject(r)) return [];
  const errs: FieldError[] = [];
  if (typeof r.match === 'string') {
    const why = ruleError(r.match);
    if (why) errs.push(fieldErrors.invalid(`${path}.match`, r.match, why));
  }
  if (Array.isArray(r.services)) r.services.forEach((s, i) => isObject(s) && errs.push(...serviceRefErrors(s, `${path}.services[${i}]`)));
  return errs;
}

export function validateIngressRoute(ir: IngressRoute): FieldError[] {
  const errs = validateCustomObject(ir.metadata, ir.spec, ingressRouteSpec);
  const routes: unknown = ir.spec?.routes;
  if (Array.isArray(routes)) routes.forEach((r, i) => errs.push(...routeErrors(r, `spec.routes[${i}]`)));
  return errs;
}

export function validateIngressRouteUpdate(ir: IngressRoute, old: IngressRoute): FieldError[] {
  return [...validateObjectMetaUpdate(ir.metadata, old.metadata), ...validateIngressRoute(ir)];
}

// ---- Middleware ---------------------------------------------------------------------------------------

/** What Traefik refuses when it builds the middleware ("prefix cannot be empty", ...), moved to admission. */
function middlewareFieldErrors(spec: MiddlewareSpec): FieldError[] {
  const errs: FieldError[] = [];
  if (spec.addPrefix && !spec.addPrefix.prefix) errs.push(fieldErrors.required('spec.addPrefix.prefix', 'prefix cannot be empty'));
  if (spec.stripPrefix && !spec.stripPrefix.prefixes?.length) errs.push(fieldErrors.required('spec.stripPrefix.prefixes'));
  if (spec.redirectScheme && !spec.redirectScheme.scheme) errs.push(fieldErrors.required('spec.redirectScheme.scheme', 'you must provide a target scheme'));
  const rr = spec.redirectRegex;
  if (rr) {
    if (!rr.regex) errs.push(fieldErrors.required('spec.redirectRegex.regex'));
    else if (!compiles(rr.regex)) errs.push(fieldErrors.invalid('spec.redirectRegex.regex', rr.regex, 'must be a valid regular expression'));
    if (rr.replacement === undefined) errs.push(fieldErrors.required('spec.redirectRegex.replacement'));
  }
  if (spec.basicAuth && !spec.basicAuth.secret) errs.push(fieldErrors.required('spec.basicAuth.secret', 'the name of a Secret holding the users'));
  if (spec.retry && !((spec.retry.attempts ?? 0) > 0)) {
    errs.push(fieldErrors.invalid('spec.retry.attempts', spec.retry.attempts ?? 0, 'incorrect (or empty) value for attempt; must be greater than 0'));
  }
  if (spec.circuitBreaker && !spec.circuitBreaker.expression) errs.push(fieldErrors.required('spec.circuitBreaker.expression'));
  const allow = spec.ipAllowList;
  if (allow) {
    if (!allow.sourceRange?.length) errs.push(fieldErrors.required('spec.ipAllowList.sourceRange', 'sourceRange is empty'));
    allow.sourceRange?.forEach((r, i) => {
      if (typeof r !== 'string') return;
      const msgs = r.includes('/') ? isValidCIDR(r) : isValidIP(r);
      for (const m of msgs) errs.push(fieldErrors.invalid(`spec.ipAllowList.sourceRange[${i}]`, r, m));
    });
  }
  return errs;
}

/** Go's RE2 writes named groups (?P<name>...); JavaScript wants (?<name>...). */
function compiles(goRegex: string): boolean {
  try {
    new RegExp(goRegex.replaceAll('(?P<', '(?<'));
    return true;
  } catch {
    return false;
  }
}

export function validateMiddleware(mw: Middleware): FieldError[] {
  const spec: unknown = mw.spec;
  const errs = validateObjectMeta(mw.metadata, true, nameIsDNSSubdomain);
  if (spec === undefined) return [...errs, fieldErrors.required('spec')];
  if (!isObject(spec)) return [...errs, ...checkSchema(object({}), spec, 'spec')];
  for (const key of Object.keys(spec)) {
    if (!(key in MIDDLEWARE_TYPES)) errs.push(fieldErrors.notSupported(`spec.${key}`, key, MIDDLEWARE_TYPE_NAMES));
  }
  const set = MIDDLEWARE_TYPE_NAMES.filter((t) => spec[t] !== undefined);
  // Traefik's CRD takes several types in one object and then refuses to build it; say so up front.
  if (set.length === 0) errs.push(fieldErrors.required('spec', `exactly one middleware type must be set: ${MIDDLEWARE_TYPE_NAMES.join(', ')}`));
  if (set.length > 1) errs.push(fieldErrors.forbidden('spec', `multi-types middleware not supported, consider declaring ${set.length} different pieces of middleware instead (${set.join(', ')})`));
  const typeErrs = set.flatMap((t) => checkSchema(MIDDLEWARE_TYPES[t], spec[t], `spec.${t}`));
  // Value rules read the typed fields, so they run only on a spec whose types are right.
  return [...errs, ...typeErrs, ...(typeErrs.length === 0 ? middlewareFieldErrors(spec as MiddlewareSpec) : [])];
}

export function validateMiddlewareUpdate(mw: Middleware, old: Middleware): FieldError[] {
  return [...validateObjectMetaUpdate(mw.metadata, old.metadata), ...validateMiddleware(mw)];
}

// ---- TLSOption ----------------------------------------------------------------------------------------

export function validateTLSOption(opt: TLSOption): FieldError[] {
  const errs = validateCustomObject(opt.metadata, opt.spec, tlsOptionSpec);
  for (const field of ['minVersion', 'maxVersion'] as const) {
    const v: unknown = opt.spec?.[field];
    if (typeof v === 'string' && !TLS_VERSIONS.includes(v)) errs.push(fieldErrors.notSupported(`spec.${field}`, v, TLS_VERSIONS));
  }
  return errs;
}

export function validateTLSOptionUpdate(opt: TLSOption, old: TLSOption): FieldError[] {
  return [...validateObjectMetaUpdate(opt.metadata, old.metadata), ...validateTLSOption(opt)];
}
