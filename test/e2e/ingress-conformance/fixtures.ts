// The ingress conformance suite's data (../shared/conformance/ingress) turned into objects the way
// the upstream Go runner does it: the feature's Ingress (with the runner's --ingress-class put in
// place of the "conformance" placeholder), one echo Deployment + NodePort Service per backend
// Service rendered from the two templates, and the conformance-tls Secret made with openssl.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import type { Deployment, Ingress, IngressBackend, KubeObject, Secret, Service } from '../../../src/api/types.js';

export const CONFORMANCE_DIR = path.resolve(import.meta.dirname, '../../../../shared/conformance/ingress');
export const FEATURES = ['default_backend', 'host_rules', 'ingress_class', 'load_balancing', 'path_rules'] as const;
export type Feature = (typeof FEATURES)[number];

/** The class name the transcribed manifests carry where the runner injects its --ingress-class. */
const CLASS_PLACEHOLDER = 'conformance';
const ECHO_IMAGE = 'k8s.gcr.io/ingressconformance/echoserver:v0.0.1@sha256:9b34b17f391f87fb2155f01da2f2f90b7a4a5c1110ed84cb5379faa4f570dc52';
/** Service port when the Ingress names the port instead of giving its number. */
const NAMED_PORT_NUMBER = 8080;

export interface CaseRequest {
  method: string;
  scheme: 'http' | 'https';
  /** null: no Host override, the request goes to the bare ingress address */
  host: string | null;
  sni?: string;
  path: string;
  headers?: Record<string, string>;
  count?: number;
  sequential?: boolean;
}

export interface CaseExpect {
  status?: number;
  service?: string;
  responseProto?: string;
  responseHeadersPresent?: string[];
  echo?: { method?: string; path?: string; proto?: string; host?: string; headers?: Record<string, string> };
  tlsCertificateVerifiesHostname?: string;
  allResponses?: boolean;
  distinctEchoPods?: number;
  replicas?: number;
  ingressStatusAddress?: string;
}

export interface ConformanceCase {
  feature: Feature;
  scenario: string;
  request: CaseRequest | null;
  expect: CaseExpect;
}

export function conformanceDataPresent(): boolean {
  return fs.existsSync(path.join(CONFORMANCE_DIR, 'cases.json'));
}

export function loadCases(): ConformanceCase[] {
  return (JSON.parse(fs.readFileSync(path.join(CONFORMANCE_DIR, 'cases.json'), 'utf8')) as { cases: ConformanceCase[] }).cases;
}

/** Every object of a feature's rendered manifest (Namespace, Secret, Deployments, Services, Ingress). */
export function featureManifest(feature: Feature): KubeObject[] {
  const text = fs.readFileSync(path.join(CONFORMANCE_DIR, 'manifests', `${feature}.yaml`), 'utf8');
  return parseAllDocuments(text)
    .map((d) => d.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => o !== null);
}

/** The feature's Ingress in `namespace`, its placeholder class replaced by `ingressClass`. */
export function featureIngress(feature: Feature, namespace: string, ingressClass: string): Ingress {
  const ing = featureManifest(feature).find((o) => o.kind === 'Ingress') as Ingress;
  ing.metadata.namespace = namespace;
  if (ing.spec.ingressClassName === CLASS_PLACEHOLDER) ing.spec.ingressClassName = ingressClass;
  return ing;
}

interface BackendRef {
  name: string;
  portNumber?: number;
  portName?: string;
}

/** Distinct Service backends of an Ingress, default backend first, then rules in order. */
export function backendServices(ing: Ingress): BackendRef[] {
  const backends: IngressBackend[] = [
    ...(ing.spec.defaultBackend ? [ing.spec.defaultBackend] : []),
    ...(ing.spec.rules ?? []).flatMap((r) => (r.http?.paths ?? []).map((p) => p.backend)),
  ];
  const seen = new Map<string, BackendRef>();
  for (const b of backends) {
    const s = b.service;
    if (s && !seen.has(s.name)) seen.set(s.name, { name: s.name, portNumber: s.port?.number, portName: s.port?.name });
  }
  return [...seen.values()];
}

function render(template: string, values: Record<string, string | number>): unknown {
  const text = fs.readFileSync(path.join(CONFORMANCE_DIR, 'manifests', template), 'utf8');
  return parseYaml(text.replace(/\{\{ \.(\w+) \}\}/g, (_, key: string) => String(values[key] ?? '')));
}

/** The echo Deployment `<ingress>-<service>` and NodePort Service `<service>` the runner creates per backend. */
export function echoObjects(ing: Ingress): { deployment: Deployment; service: Service }[] {
  const ingress = ing.metadata.name ?? '';
  const namespace = ing.metadata.namespace;
  return backendServices(ing).map((b) => {
    const name = `${ingress}-${b.name}`;
    const deployment = render('echo-deployment.template.yaml', {
      Name: name,
      MatchLabels: name,
      Labels: name,
      Image: ECHO_IMAGE,
      Ingress: ingress,
      Service: b.name,
      PortName: b.portName ?? '',
    }) as Deployment;
    deployment.metadata.namespace = namespace;
    // An empty {{ .PortName }} renders `name:` with no value: an unnamed container port.
    for (const p of deployment.spec.template.spec?.containers[0]?.ports ?? []) if (!p.name) delete p.name;
    const service = render('echo-service.template.yaml', { Name: b.name, Selector: name, Port: b.portNumber ?? 0 }) as Service;
    service.metadata.namespace = namespace;
    const port = service.spec.ports![0]!;
    if (b.portName) port.name = b.portName;
    if (!b.portNumber) port.port = NAMED_PORT_NUMBER;
    return { deployment, service };
  });
}

/**
 * The conformance-tls Secret: a fresh self-signed RSA-2048 certificate, CN=default O=Acme Co, DNS
 * SAN foo.bar.com, one year, server auth, with its key in PKCS#1 form as the Go runner writes it.
 */
export function conformanceTlsSecret(namespace: string): Secret {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kemu-conformance-tls-'));
  try {
    const key = path.join(dir, 'tls.key');
    const crt = path.join(dir, 'tls.crt');
    const openssl = (args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    openssl(['genrsa', '-traditional', '-out', key, '2048']);
    openssl([
      'req', '-x509', '-new', '-key', key, '-out', crt, '-days', '365', '-subj', '/O=Acme Co/CN=default',
      '-addext', 'subjectAltName=DNS:foo.bar.com',
      '-addext', 'keyUsage=critical,digitalSignature,keyEncipherment',
      '-addext', 'extendedKeyUsage=serverAuth',
    ]);
    return {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'conformance-tls', namespace },
      type: 'kubernetes.io/tls',
      data: { 'tls.crt': fs.readFileSync(crt).toString('base64'), 'tls.key': fs.readFileSync(key).toString('base64') },
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
