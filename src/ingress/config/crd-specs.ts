// Traefik's CRD shapes (src/api/traefik-types.ts) -> the dynamic configuration's, as the
// kubernetescrd provider converts them: CRD durations are int-or-string (an integer is seconds),
// a BasicAuth names a Secret where the configuration lists users, and fields the configuration
// needs are optional in the CRD.

import { createHash } from 'node:crypto';
import type { Secret } from '../../api/types.js';
import type { BasicAuthMiddleware, MiddlewareSpec as CrdMiddlewareSpec, ServerHealthCheckSpec, StickyCookieSpec } from '../../api/traefik-types.js';
import { findSecret, secretKeys, secretValue } from './secrets.js';
import type { HealthCheckConfig, MiddlewareSpec, StickyCookie } from './types.js';

function durationText(v: number | string | undefined): string | undefined {
  return typeof v === 'number' ? `${v}s` : v;
}

/**
 * The htpasswd lines of a BasicAuth Secret, read as Traefik reads it: a kubernetes.io/basic-auth
 * Secret gives one user (its password hashed to {SHA}), any other must hold exactly one key of
 * "user:hash" lines. A string says why there are none.
 */
function basicAuthUsers(secrets: readonly Secret[], namespace: string, name: string): string[] | string {
  const secret = findSecret(secrets, namespace, name);
  if (!secret) return `secret ${namespace}/${name} does not exist`;
  if (secret.type === 'kubernetes.io/basic-auth') {
    const user = secretValue(secret, 'username');
    const password = secretValue(secret, 'password');
    if (user === undefined || password === undefined) return `secret ${namespace}/${name} must contain both username and password`;
    return [`${user}:{SHA}${createHash('sha1').update(password).digest('base64')}`];
  }
  const keys = secretKeys(secret);
  if (keys.length !== 1) return `found ${keys.length} elements for secret ${namespace}/${name}, must be single element exactly`;
  const lines = (secretValue(secret, keys[0]!) ?? '').split('\n').filter((l) => l.length > 0);
  if (lines.length === 0) return `secret ${namespace}/${name} does not contain any credentials`;
  return lines;
}

function basicAuthSpec(spec: BasicAuthMiddleware, namespace: string, secrets: readonly Secret[]): MiddlewareSpec['basicAuth'] | string {
  const users = spec.secret ? basicAuthUsers(secrets, namespace, spec.secret) : [];
  if (typeof users === 'string') return users;
  return { users, realm: spec.realm, headerField: spec.headerField, removeHeader: spec.removeHeader };
}

/** A Middleware's spec in the configuration's shape, or why it cannot be built. */
export function middlewareSpecFromCrd(spec: CrdMiddlewareSpec, namespace: string, secrets: readonly Secret[]): MiddlewareSpec | string {
  const { stripPrefix, addPrefix, redirectRegex, basicAuth, rateLimit, retry, circuitBreaker, ipAllowList } = spec;
  const out: MiddlewareSpec = { redirectScheme: spec.redirectScheme, headers: spec.headers };
  if (stripPrefix) out.stripPrefix = { prefixes: stripPrefix.prefixes ?? [] };
  if (addPrefix) out.addPrefix = { prefix: addPrefix.prefix ?? '' };
  if (redirectRegex) out.redirectRegex = { regex: redirectRegex.regex ?? '', replacement: redirectRegex.replacement ?? '', permanent: redirectRegex.permanent };
  if (basicAuth) {
    const converted = basicAuthSpec(basicAuth, namespace, secrets);
    if (typeof converted === 'string') return converted;
    out.basicAuth = converted;
  }
  if (rateLimit) out.rateLimit = { average: rateLimit.average ?? 0, period: durationText(rateLimit.period), burst: rateLimit.burst };
  if (retry) out.retry = { attempts: retry.attempts ?? 0, initialInterval: durationText(retry.initialInterval) };
  if (circuitBreaker) {
    out.circuitBreaker = {
      expression: circuitBreaker.expression ?? '',
      checkPeriod: durationText(circuitBreaker.checkPeriod),
      fallbackDuration: durationText(circuitBreaker.fallbackDuration),
      recoveryDuration: durationText(circuitBreaker.recoveryDuration),
      responseCode: circuitBreaker.responseCode,
    };
  }
  if (ipAllowList) out.ipAllowList = { sourceRange: ipAllowList.sourceRange ?? [], rejectStatusCode: ipAllowList.rejectStatusCode };
  return out;
}

export function healthCheckFromCrd(hc: ServerHealthCheckSpec): HealthCheckConfig {
  return {
    path: hc.path || '/',
    interval: durationText(hc.interval),
    timeout: durationText(hc.timeout),
    status: hc.status,
    method: hc.method,
    hostname: hc.hostname,
    headers: hc.headers,
  };
}

const SAME_SITE = new Set(['none', 'lax', 'strict']);

export function stickyCookieFromCrd(c: StickyCookieSpec): StickyCookie {
  const sameSite = c.sameSite?.toLowerCase();
  return {
    name: c.name,
    secure: c.secure,
    httpOnly: c.httpOnly,
    sameSite: sameSite && SAME_SITE.has(sameSite) ? (sameSite as StickyCookie['sameSite']) : undefined,
    maxAge: c.maxAge,
    path: c.path,
  };
}
