// Traefik's object names: provider.Normalize joins the letter/digit runs of a name with '-', and
// a fully qualified name carries '@<provider>'. Two Ingress paths that normalise to one key keep
// both routers, the second suffixed with the first 10 hex digits of sha256(rule).

import { createHash } from 'node:crypto';
import type { ProviderName } from './types.js';

export function normalize(name: string): string {
  return name.split(/[^\p{L}\p{N}]+/u).filter((s) => s !== '').join('-');
}

export function qualified(name: string, provider: ProviderName): string {
  return `${name}@${provider}`;
}

export function ruleHash(rule: string): string {
  return createHash('sha256').update(rule).digest('hex').slice(0, 10);
}

/** A router name not yet in `taken`: the key itself, or key-<hash of rule> on a clash. */
export function uniqueRouterName(key: string, rule: string, taken: ReadonlySet<string>): string {
  return taken.has(key) ? `${key}-${ruleHash(rule)}` : key;
}
