// The e2e ingress conformance runner builds its backends from the two templates as the Go runner
// does; here they must come out equal to the fully rendered manifests transcribed beside them, and
// the generated TLS Secret must have the certificate the README describes.
import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Deployment, KubeObject } from '../../src/api/types.js';
import { validateObject } from '../../src/api/validation/index.js';
import { resourceForKind } from '../../src/api/resources.js';
import { defaultClusterConfig } from '../../src/api/cluster.js';
import { fieldErrorString } from '../../src/api/errors.js';
import {
  FEATURES,
  conformanceDataPresent,
  conformanceTlsSecret,
  echoObjects,
  featureIngress,
  featureManifest,
  loadCases,
} from '../e2e/ingress-conformance/fixtures.js';

const NS = 'ingress-conformance-abcde';

describe.skipIf(!conformanceDataPresent())('ingress conformance fixtures', () => {
  it.each(FEATURES)('%s: echo Deployments and Services from the templates equal the manifest', (feature) => {
    const ing = featureIngress(feature, NS, 'conformance');
    const rendered = echoObjects(ing).flatMap((o) => [o.deployment, o.service]);
    const manifest = featureManifest(feature).filter((o) => o.kind === 'Deployment' || o.kind === 'Service');
    // load_balancing's manifest shows the Deployment after the runner scaled it to 10.
    if (feature === 'load_balancing') (manifest[0] as Deployment).spec.replicas = 1;
    expect(rendered).toEqual(manifest);
  });

  it('puts the runner class in place of the placeholder and leaves a foreign class alone', () => {
    expect(featureIngress('path_rules', 'ns1', 'kemu').spec.ingressClassName).toBe('kemu');
    expect(featureIngress('ingress_class', 'ns1', 'kemu').spec.ingressClassName).toBe('some-invalid-class-name');
    expect(featureIngress('host_rules', 'ns1', 'kemu').metadata.namespace).toBe('ns1');
  });

  it('has every case of cases.json on one of the five features', () => {
    const cases = loadCases();
    expect(cases).toHaveLength(30);
    expect(new Set(cases.map((c) => c.feature))).toEqual(new Set(FEATURES));
  });

  it('generates conformance-tls as a valid kubernetes.io/tls Secret for foo.bar.com', () => {
    const secret = conformanceTlsSecret(NS);
    const errs = validateObject(resourceForKind('v1', 'Secret')!, secret as KubeObject, undefined, { config: defaultClusterConfig() });
    expect(errs.map(fieldErrorString)).toEqual([]);
    const cert = new X509Certificate(Buffer.from(secret.data!['tls.crt']!, 'base64'));
    expect(cert.subject).toBe('O=Acme Co\nCN=default');
    expect(cert.checkHost('foo.bar.com')).toBe('foo.bar.com');
    expect(cert.checkHost('bar.foo.com')).toBeUndefined();
    expect(Buffer.from(secret.data!['tls.key']!, 'base64').toString()).toMatch(/^-----BEGIN RSA PRIVATE KEY-----/);
    const days = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / 86_400_000;
    expect(Math.round(days)).toBe(365);
  });
});
