// kubernetes.io/tls Secrets -> PEM certificate and key for the SNI store.

import type { Secret } from '../../api/types.js';
import type { CertificateConfig } from './types.js';
import { findSecret, secretValue } from './secrets.js';

/** The certificate in ns/name, or a reason why there is none. */
export function certificateFromSecret(secrets: readonly Secret[], namespace: string, name: string): CertificateConfig | string {
  const secret = findSecret(secrets, namespace, name);
  if (!secret) return `secret ${namespace}/${name} does not exist`;
  const certPem = secretValue(secret, 'tls.crt');
  const keyPem = secretValue(secret, 'tls.key');
  if (!certPem || !keyPem) return `secret ${namespace}/${name} must have data fields tls.crt and tls.key`;
  return { source: `${namespace}/${name}`, certPem, keyPem };
}
