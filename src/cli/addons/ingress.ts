// The ingress add-on `kemu up` installs, shaped as the Traefik Helm chart installs Traefik: the
// IngressClass `kemu` (the cluster's default class), a one-replica Deployment `traefik` in
// kube-system running kemu's Traefik-like controller (image traefik:v3.1 maps to it), and a NodePort
// Service `traefik` so that http://<any node IP>:30080 and https://<any node IP>:30443 reach it. Its
// web and websecure ports are also hostPorts 80/443 (the portmap CNI plugin's DNAT), so
// http://<its node's IP>/ reaches it as on a kind cluster set up for ingress.

import type { ClusterConfig } from '../../api/cluster.js';
import type { Deployment, IngressClass, KubeObject, Service } from '../../api/types.js';
import { CONTROLLER_NAME, DEFAULT_CLASS_ANNOTATION } from '../../ingress/config/ingress-class.js';

export const INGRESS_CLASS = 'kemu';
export const INGRESS_NAMESPACE = 'kube-system';
export const INGRESS_NAME = 'traefik';
export const INGRESS_IMAGE = 'traefik:v3.1';

/** Container ports: Traefik's entrypoints web, websecure and traefik (API, ping, metrics). */
export const ENTRYPOINT_PORTS = { web: 80, websecure: 443, traefik: 9000 } as const;
/** Where the Service publishes web and websecure on every node. */
export const INGRESS_NODE_PORTS = { web: 30080, websecure: 30443 } as const;

const LABELS = { 'app.kubernetes.io/name': INGRESS_NAME, 'app.kubernetes.io/instance': `${INGRESS_NAME}-${INGRESS_NAMESPACE}` };

/** The controller's command line: Traefik's flags, plus kemu's --api-socket for the cluster API. */
export function ingressControllerArgs(apiSocket: string): string[] {
  return [
    `--entrypoints.web.address=:${ENTRYPOINT_PORTS.web}`,
    `--entrypoints.websecure.address=:${ENTRYPOINT_PORTS.websecure}`,
    `--entrypoints.traefik.address=:${ENTRYPOINT_PORTS.traefik}`,
    '--api.insecure=true',
    '--ping=true',
    '--metrics.prometheus=true',
    '--providers.kubernetesingress=true',
    '--providers.kubernetescrd=true',
    `--api-socket=${apiSocket}`,
  ];
}

function ingressClass(): IngressClass {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'IngressClass',
    metadata: { name: INGRESS_CLASS, labels: { ...LABELS }, annotations: { [DEFAULT_CLASS_ANNOTATION]: 'true' } },
    spec: { controller: CONTROLLER_NAME },
  };
}

function deployment(apiSocket: string): Deployment {
  const probe = (failureThreshold: number) => ({
    httpGet: { path: '/ping', port: ENTRYPOINT_PORTS.traefik, scheme: 'HTTP' as const },
    initialDelaySeconds: 1,
    periodSeconds: 1,
    timeoutSeconds: 2,
    successThreshold: 1,
    failureThreshold,
  });
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: INGRESS_NAME, namespace: INGRESS_NAMESPACE, labels: { ...LABELS } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { ...LABELS } },
      template: {
        metadata: { labels: { ...LABELS } },
        spec: {
          terminationGracePeriodSeconds: 5,
          containers: [
            {
              name: INGRESS_NAME,
              image: INGRESS_IMAGE,
              args: ingressControllerArgs(apiSocket),
              env: [
                { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
              ],
              ports: [
                { name: 'web', containerPort: ENTRYPOINT_PORTS.web, hostPort: ENTRYPOINT_PORTS.web, protocol: 'TCP' },
                { name: 'websecure', containerPort: ENTRYPOINT_PORTS.websecure, hostPort: ENTRYPOINT_PORTS.websecure, protocol: 'TCP' },
                { name: 'traefik', containerPort: ENTRYPOINT_PORTS.traefik, protocol: 'TCP' },
              ],
              readinessProbe: probe(1),
              livenessProbe: probe(3),
            },
          ],
        },
      },
    },
  };
}

/** NodePorts outside the cluster's range would make the Service invalid: the allocator picks then. */
function nodePortIn(config: ClusterConfig, port: number): { nodePort?: number } {
  const { min, max } = config.nodePortRange;
  return port >= min && port <= max ? { nodePort: port } : {};
}

function service(config: ClusterConfig): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: INGRESS_NAME, namespace: INGRESS_NAMESPACE, labels: { ...LABELS } },
    spec: {
      type: 'NodePort',
      selector: { ...LABELS },
      ports: [
        { name: 'web', port: ENTRYPOINT_PORTS.web, targetPort: 'web', protocol: 'TCP', ...nodePortIn(config, INGRESS_NODE_PORTS.web) },
        { name: 'websecure', port: ENTRYPOINT_PORTS.websecure, targetPort: 'websecure', protocol: 'TCP', ...nodePortIn(config, INGRESS_NODE_PORTS.websecure) },
      ],
    },
  };
}

/** The add-on's objects, in the order to create them; `apiSocket` is the API server's Unix socket. */
export function ingressAddonObjects(config: ClusterConfig, apiSocket: string): KubeObject[] {
  return [ingressClass(), service(config), deployment(apiSocket)];
}
