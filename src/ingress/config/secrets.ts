// Reading Secrets the providers refer to by name. stringData wins over data, as the API server
// would have merged it on write.

import type { Secret } from '../../api/types.js';

export function findSecret(secrets: readonly Secret[], namespace: string, name: string): Secret | undefined {
  return secrets.find((s) => s.metadata.namespace === namespace && s.metadata.name === name);
}

/** The decoded value of one key, or undefined when the Secret does not have it. */
export function secretValue(secret: Secret, key: string): string | undefined {
  const plain = secret.stringData?.[key];
  if (plain !== undefined) return plain;
  const b64 = secret.data?.[key];
  return b64 === undefined ? undefined : Buffer.from(b64, 'base64').toString('utf8');
}

export function secretKeys(secret: Secret): string[] {
  return [...new Set([...Object.keys(secret.data ?? {}), ...Object.keys(secret.stringData ?? {})])];
}
