// The objects e2e tests apply to a cluster — agnhost netexec Deployments, the Services in front of
// them, Pods pinned to a node — typed as the API's own objects, and written as YAML for
// `kemu apply -f`.

import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import type { Container, Deployment, KubeObject, Pod, PodSpec, Probe, Service, ServicePort, ServiceSpec } from '../../../src/api/types.js';

export const AGNHOST = 'registry.k8s.io/e2e-test-images/agnhost:2.47';

/** Ready once netexec answers /healthz on its HTTP port, looked at every second. */
export const HEALTHZ_PROBE: Probe = { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1 };

/** Port 80 named http, to netexec's HTTP port. */
export const HTTP_PORT: ServicePort = { name: 'http', port: 80, targetPort: 8080 };

/** agnhost netexec: HTTP on 8080, and UDP on 8081 with udp. */
export function netexec(name: string, opts: { udp?: boolean; readinessProbe?: Probe } = {}): Container {
  const args = ['netexec', '--http-port=8080', ...(opts.udp ? ['--udp-port=8081'] : [])];
  return { name, image: AGNHOST, args, ...(opts.readinessProbe && { readinessProbe: opts.readinessProbe }) };
}

/** A Deployment whose Pods carry app=<name>; `pod` adds Pod spec fields beside the containers. */
export function deployment(
  name: string,
  replicas: number,
  containers: Container[],
  opts: { labels?: Record<string, string>; pod?: Omit<PodSpec, 'containers'> } = {},
): Deployment {
  const app = { app: name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, ...(opts.labels && { labels: opts.labels }) },
    spec: { replicas, selector: { matchLabels: app }, template: { metadata: { labels: app }, spec: { ...opts.pod, containers } } },
  };
}

export function service(name: string, spec: ServiceSpec): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec };
}

/** A bare Pod (no controller), placed on `nodeName` without the scheduler. */
export function pinnedPod(name: string, nodeName: string, labels: Record<string, string>, container: Container): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels }, spec: { nodeName, containers: [container] } };
}

/** Writes dir/<fileName>.yaml (objects as YAML documents, or text as it is) and returns its path. */
export function writeManifest(dir: string, fileName: string, content: KubeObject[] | string): string {
  const file = path.join(dir, `${fileName}.yaml`);
  fs.writeFileSync(file, typeof content === 'string' ? content : content.map((o) => stringify(o, { aliasDuplicateObjects: false })).join('---\n'));
  return file;
}
