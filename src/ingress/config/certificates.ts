// kubernetes.io/tls Secrets -> PEM certificate and key for the SNI store.

import type { Secret } from '../../api/types.js';
import type { CertificateConfig } from './types.js';

function field(secret: Secret, key: string): string | undefined {
  const plain = secret.stringData?.[key];
  if (plain !== undefined) return plain;
  const b64 = secret.data?.[key];
  return b64 === undefined ? undefined : Buffer.from(b64, 'base64').toString('utf8');
}

/** The certificate in ns/name, or a reason why there is none. */
export function certificateFromSecret(secrets: readonly Secret[], namespace: string, name: string): CertificateConfig | string {
  const secret = secrets.find((s) => s.metadata.namespace === namespace && s.metadata.name === name);
  if (!secret) return `secret ${namespace}/${name} does not exist`;
  const certPem = field(secret, 'tls.crt');
  const keyPem = field(secret, 'tls.key');
  if (!certPem || !keyPem) return `secret ${namespace}/${name} must have data fields tls.crt and tls.key`;
  return { source: `${namespace}/${name}`, certPem, keyPem };
}
