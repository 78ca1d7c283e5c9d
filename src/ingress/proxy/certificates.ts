// The TLS certificate store: certificates from Secrets chosen by SNI (an exact SAN first, then a
// one-label wildcard SAN), Traefik's self-signed default otherwise. The default certificate is
// made with the openssl CLI through src/sys (Node 20 has no X.509 generation API).

import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecureContext, type SecureContext } from 'node:tls';
import { exec } from '../../sys/exec.js';
import type { CertificateConfig } from '../config/types.js';

export const DEFAULT_CERT_CN = 'TRAEFIK DEFAULT CERT';

export interface GeneratedCert {
  certPem: string;
  keyPem: string;
}

/**
 * A self-signed RSA-2048 certificate for `cn` with the given DNS SANs, valid for a year. RSA as
 * Traefik's default certificate: Node keeps the server's default key beside the one SNI picks, and
 * under TLS 1.3 an EC default would be preferred over a Secret's RSA certificate.
 */
export async function generateSelfSigned(cn: string, dnsNames: string[] = []): Promise<GeneratedCert> {
  const dir = await mkdtemp(join(tmpdir(), 'kemu-cert-'));
  try {
    const args = ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '365', '-subj', `/CN=${cn}`, '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')];
    if (dnsNames.length) args.push('-addext', `subjectAltName=${dnsNames.map((d) => `DNS:${d}`).join(',')}`);
    await exec('openssl', args, { timeoutMs: 15_000 });
    return { certPem: await readFile(join(dir, 'cert.pem'), 'utf8'), keyPem: await readFile(join(dir, 'key.pem'), 'utf8') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** DNS names a certificate covers: its DNS SANs, or its CN when it has none. */
export function certificateNames(certPem: string): string[] {
  const x = new X509Certificate(certPem);
  const sans = (x.subjectAltName ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.startsWith('DNS:'))
    .map((s) => s.slice(4).toLowerCase());
  if (sans.length) return sans;
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(x.subject)?.[1];
  return cn ? [cn.toLowerCase()] : [];
}

export interface StoredCert<C> {
  names: string[];
  context: C;
}

/** SNI -> certificate: exact name, then wildcard for exactly one more label, else undefined. */
export function pickCertificate<C>(certs: readonly StoredCert<C>[], sni: string | undefined): StoredCert<C> | undefined {
  if (!sni) return undefined;
  const host = sni.toLowerCase().replace(/\.$/, '');
  const exact = certs.find((c) => c.names.includes(host));
  if (exact) return exact;
  const dot = host.indexOf('.');
  if (dot <= 0) return undefined;
  const wildcard = `*${host.slice(dot)}`;
  return certs.find((c) => c.names.includes(wildcard));
}

export class CertificateStore {
  private certs: StoredCert<SecureContext>[] = [];
  /** Secrets whose PEM could not be loaded, with the reason */
  readonly rejected: string[] = [];

  constructor(private readonly fallback: SecureContext) {}

  static withDefault(cert: GeneratedCert): CertificateStore {
    return new CertificateStore(createSecureContext({ cert: cert.certPem, key: cert.keyPem }));
  }

  /** Replaces the store's certificates (the default one stays). */
  load(certs: readonly CertificateConfig[]): void {
    const next: StoredCert<SecureContext>[] = [];
    this.rejected.length = 0;
    for (const c of certs) {
      try {
        next.push({ names: certificateNames(c.certPem), context: createSecureContext({ cert: c.certPem, key: c.keyPem }) });
      } catch (e) {
        this.rejected.push(`${c.source}: ${(e as Error).message}`);
      }
    }
    this.certs = next;
  }

  contextFor(sni: string | undefined): SecureContext {
    return pickCertificate(this.certs, sni)?.context ?? this.fallback;
  }
}
