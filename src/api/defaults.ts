// The API server's defaulting (k8s.io/kubernetes pkg/apis/{core,apps,discovery}/v1/defaults.go plus
// the few defaults the registries set on create): fills every field a user may leave out with the
// value a real cluster stores, so `get -o yaml` shows the same object here as there.
// applyDefaults mutates in place and is idempotent.

import { Buffer } from 'node:buffer';
import type { ResourceType } from './resources.js';
import type {
  Container,
  Deployment,
  EndpointSlice,
  KubeObject,
  Namespace,
  Pod,
  PodSpec,
  Probe,
  ReplicaSet,
  Secret,
  Service,
} from './types.js';

export function applyDefaults(r: ResourceType, obj: KubeObject): void {
  switch (r.kind) {
    case 'Service':
      return defaultService(obj as Service);
    case 'Pod':
      return defaultPod(obj as Pod);
    case 'Deployment':
      return defaultDeployment(obj as Deployment);
    case 'ReplicaSet':
      return defaultReplicaSet(obj as ReplicaSet);
    case 'EndpointSlice':
      return defaultEndpointSlice(obj as EndpointSlice);
    case 'Secret':
      return defaultSecret(obj as Secret);
    case 'Namespace':
      return defaultNamespace(obj as Namespace);
  }
}

// ---- Service ----------------------------------------------------------------------------------

/** Seconds of ClientIP affinity when the user asks for it without a timeout (3 hours). */
const DEFAULT_CLIENT_IP_AFFINITY_SECONDS = 10800;

/** NodePort and LoadBalancer Services, and ClusterIP ones with externalIPs, take outside traffic. */
export function externallyAccessible(svc: Service): boolean {
  const t = svc.spec.type;
  return t === 'NodePort' || t === 'LoadBalancer' || (t === 'ClusterIP' && (svc.spec.externalIPs?.length ?? 0) > 0);
}

function defaultService(svc: Service): void {
  const spec = (svc.spec ??= {});
  spec.sessionAffinity ??= 'None';
  if (spec.sessionAffinity === 'None') delete spec.sessionAffinityConfig;
  if (spec.sessionAffinity === 'ClientIP' && spec.sessionAffinityConfig?.clientIP?.timeoutSeconds === undefined) {
    spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: DEFAULT_CLIENT_IP_AFFINITY_SECONDS } };
  }
  spec.type ??= 'ClusterIP';
  for (const p of spec.ports ?? []) {
    p.protocol ??= 'TCP';
    if (p.targetPort === undefined || p.targetPort === 0 || p.targetPort === '') p.targetPort = p.port;
  }
  if (externallyAccessible(svc)) spec.externalTrafficPolicy ??= 'Cluster';
  if (spec.type !== 'ExternalName') spec.internalTrafficPolicy ??= 'Cluster';
  if (spec.type === 'LoadBalancer') spec.allocateLoadBalancerNodePorts ??= true;
  syncClusterIPs(spec);
  defaultServiceIPFamilies(spec);
}

/** Users may give either clusterIP or clusterIPs; the registry keeps both (NormalizeClusterIPs). */
export function syncClusterIPs(spec: Service['spec']): void {
  if (spec.clusterIP && !spec.clusterIPs?.length) spec.clusterIPs = [spec.clusterIP];
  else if (!spec.clusterIP && spec.clusterIPs?.length) spec.clusterIP = spec.clusterIPs[0];
}

/**
 * kube-apiserver's registry fills these on a single-stack IPv4 cluster: SingleStack/[IPv4] normally;
 * a headless Service without selector gets RequireDualStack with every family the cluster has;
 * ExternalName Services get none.
 */
function defaultServiceIPFamilies(spec: Service['spec']): void {
  if (spec.type === 'ExternalName') return;
  const headlessNoSelector = spec.clusterIP === 'None' && Object.keys(spec.selector ?? {}).length === 0;
  spec.ipFamilyPolicy ??= headlessNoSelector ? 'RequireDualStack' : 'SingleStack';
  if (!spec.ipFamilies || spec.ipFamilies.length === 0) spec.ipFamilies = ['IPv4'];
}

// ---- Pod and pod templates --------------------------------------------------------------------

function defaultPod(pod: Pod): void {
  const spec = (pod.spec ??= { containers: [] });
  defaultPodSpec(spec);
  spec.enableServiceLinks ??= true;
  if (spec.hostNetwork) {
    // A host-network Pod's container ports are host ports.
    for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
      for (const p of c.ports ?? []) p.hostPort ??= p.containerPort;
    }
  }
}

/** Defaults shared by Pods and the templates of Deployments and ReplicaSets. */
function defaultPodSpec(spec: PodSpec): void {
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.restartPolicy ??= 'Always';
  spec.securityContext ??= {};
  spec.terminationGracePeriodSeconds ??= 30;
  spec.schedulerName ??= 'default-scheduler';
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) defaultContainer(c);
}

function defaultContainer(c: Container): void {
  c.imagePullPolicy ??= pullsEveryTime(c.image ?? '') ? 'Always' : 'IfNotPresent';
  c.terminationMessagePath ??= '/dev/termination-log';
  c.terminationMessagePolicy ??= 'File';
  for (const p of c.ports ?? []) p.protocol ??= 'TCP';
  for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe]) if (probe) defaultProbe(probe);
  for (const e of c.env ?? []) {
    const fieldRef = e.valueFrom?.fieldRef as { apiVersion?: string } | undefined;
    if (fieldRef) fieldRef.apiVersion ??= 'v1';
  }
}

/** An image without tag or digest, or tagged :latest, is pulled every time. */
function pullsEveryTime(image: string): boolean {
  if (image.includes('@')) return false;
  const lastPart = image.slice(image.lastIndexOf('/') + 1);
  const colon = lastPart.lastIndexOf(':');
  return colon < 0 || lastPart.slice(colon + 1) === 'latest';
}

function defaultProbe(p: Probe): void {
  p.timeoutSeconds ??= 1;
  p.periodSeconds ??= 10;
  p.successThreshold ??= 1;
  p.failureThreshold ??= 3;
  if (p.httpGet) {
    p.httpGet.path ||= '/';
    p.httpGet.scheme ??= 'HTTP';
  }
}

// ---- apps/v1 ----------------------------------------------------------------------------------

function defaultDeployment(d: Deployment): void {
  const spec = d.spec;
  if (!spec) return;
  spec.replicas ??= 1;
  const strategy = (spec.strategy ??= {});
  strategy.type ??= 'RollingUpdate';
  if (strategy.type === 'RollingUpdate') {
    const ru = (strategy.rollingUpdate ??= {});
    ru.maxUnavailable ??= '25%';
    ru.maxSurge ??= '25%';
  }
  spec.revisionHistoryLimit ??= 10;
  spec.progressDeadlineSeconds ??= 600;
  if (spec.template?.spec) defaultPodSpec(spec.template.spec);
}

function defaultReplicaSet(rs: ReplicaSet): void {
  if (!rs.spec) return;
  rs.spec.replicas ??= 1;
  if (rs.spec.template?.spec) defaultPodSpec(rs.spec.template.spec);
}

// ---- the rest ---------------------------------------------------------------------------------

function defaultEndpointSlice(slice: EndpointSlice): void {
  for (const p of slice.ports ?? []) {
    p.name ??= '';
    p.protocol ??= 'TCP';
  }
}

/** type Opaque; stringData is write-only: its entries replace data's, base64-encoded. */
function defaultSecret(secret: Secret): void {
  secret.type ||= 'Opaque';
  if (secret.stringData) {
    const data = (secret.data ??= {});
    for (const [k, v] of Object.entries(secret.stringData)) data[k] = Buffer.from(v, 'utf8').toString('base64');
    delete secret.stringData;
  }
}

function defaultNamespace(ns: Namespace): void {
  const spec = (ns.spec ??= {});
  spec.finalizers ??= ['kubernetes'];
  const status = (ns.status ??= {});
  status.phase ??= 'Active';
}
