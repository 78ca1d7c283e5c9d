// The Go types behind the JSON fields kube-apiserver decodes request bodies into (k8s.io/api), for
// the fields kemu checks at decode time: object metadata, the workload, Pod, Service and
// EndpointSlice fields people write by hand, and ConfigMap/Secret data. A field not listed here is
// not type-checked. `go` is the type's name as Go's encoding/json prints it in its errors.

export type GoType =
  | { kind: 'string' | 'bool'; go: string }
  | { kind: 'int'; go: 'int32' | 'int64' }
  | { kind: 'intOrString'; go: string }
  | { kind: 'map'; go: string; value: GoType }
  | { kind: 'slice'; go: string; item: GoType }
  | GoStruct;

export interface GoStruct {
  kind: 'struct';
  /** The struct's name as errors name the field's owner: `ObjectMeta` in `ObjectMeta.metadata.labels`. */
  name: string;
  go: string;
  fields: Record<string, GoType>;
}

const str: GoType = { kind: 'string', go: 'string' };
const bool: GoType = { kind: 'bool', go: 'bool' };
const int32: GoType = { kind: 'int', go: 'int32' };
const int64: GoType = { kind: 'int', go: 'int64' };
const intOrString: GoType = { kind: 'intOrString', go: 'intstr.IntOrString' };
const strings: GoType = { kind: 'slice', go: '[]string', item: str };
const stringMap: GoType = { kind: 'map', go: 'map[string]string', value: str };

/** A named string type, such as v1.Protocol. */
const named = (go: string): GoType => ({ kind: 'string', go });
const sliceOf = (item: GoType): GoType => ({ kind: 'slice', go: `[]${item.go}`, item });

/** A struct of package pkg (`v1`, `intstr`). */
function struct(pkg: string, name: string, fields: Record<string, GoType>): GoStruct {
  return { kind: 'struct', name, go: `${pkg}.${name}`, fields };
}

const ownerReference = struct('v1', 'OwnerReference', { apiVersion: str, kind: str, name: str, uid: named('types.UID'), controller: bool, blockOwnerDeletion: bool });

const OBJECT_META = struct('v1', 'ObjectMeta', {
  name: str,
  generateName: str,
  namespace: str,
  uid: named('types.UID'),
  resourceVersion: str,
  generation: int64,
  deletionGracePeriodSeconds: int64,
  labels: stringMap,
  annotations: stringMap,
  ownerReferences: sliceOf(ownerReference),
  finalizers: strings,
});

const labelSelector = struct('v1', 'LabelSelector', {
  matchLabels: stringMap,
  matchExpressions: sliceOf(struct('v1', 'LabelSelectorRequirement', { key: str, operator: named('v1.LabelSelectorOperator'), values: strings })),
});

const protocol = named('v1.Protocol');

const container = struct('v1', 'Container', {
  name: str,
  image: str,
  command: strings,
  args: strings,
  workingDir: str,
  imagePullPolicy: named('v1.PullPolicy'),
  ports: sliceOf(struct('v1', 'ContainerPort', { name: str, containerPort: int32, hostPort: int32, hostIP: str, protocol })),
  env: sliceOf(struct('v1', 'EnvVar', { name: str, value: str })),
});

const podSpec = struct('v1', 'PodSpec', {
  containers: sliceOf(container),
  initContainers: sliceOf(container),
  nodeName: str,
  nodeSelector: stringMap,
  hostname: str,
  subdomain: str,
  hostNetwork: bool,
  restartPolicy: named('v1.RestartPolicy'),
  dnsPolicy: named('v1.DNSPolicy'),
  terminationGracePeriodSeconds: int64,
  activeDeadlineSeconds: int64,
  schedulerName: str,
  serviceAccountName: str,
  enableServiceLinks: bool,
});

const podTemplateSpec = struct('v1', 'PodTemplateSpec', { metadata: OBJECT_META, spec: podSpec });

const deploymentSpec = struct('v1', 'DeploymentSpec', {
  replicas: int32,
  selector: labelSelector,
  template: podTemplateSpec,
  strategy: struct('v1', 'DeploymentStrategy', {
    type: named('v1.DeploymentStrategyType'),
    rollingUpdate: struct('v1', 'RollingUpdateDeployment', { maxSurge: intOrString, maxUnavailable: intOrString }),
  }),
  minReadySeconds: int32,
  revisionHistoryLimit: int32,
  progressDeadlineSeconds: int32,
  paused: bool,
});

const replicaSetSpec = struct('v1', 'ReplicaSetSpec', { replicas: int32, minReadySeconds: int32, selector: labelSelector, template: podTemplateSpec });

const serviceSpec = struct('v1', 'ServiceSpec', {
  type: named('v1.ServiceType'),
  selector: stringMap,
  ports: sliceOf(struct('v1', 'ServicePort', { name: str, protocol, appProtocol: str, port: int32, targetPort: intOrString, nodePort: int32 })),
  clusterIP: str,
  clusterIPs: strings,
  externalIPs: strings,
  externalName: str,
  sessionAffinity: named('v1.ServiceAffinity'),
  externalTrafficPolicy: named('v1.ServiceExternalTrafficPolicy'),
  internalTrafficPolicy: named('v1.ServiceInternalTrafficPolicy'),
  healthCheckNodePort: int32,
  loadBalancerIP: str,
  loadBalancerSourceRanges: strings,
  allocateLoadBalancerNodePorts: bool,
  publishNotReadyAddresses: bool,
  ipFamilies: sliceOf(named('v1.IPFamily')),
  ipFamilyPolicy: named('v1.IPFamilyPolicy'),
});

const endpoint = struct('v1', 'Endpoint', {
  addresses: strings,
  conditions: struct('v1', 'EndpointConditions', { ready: bool, serving: bool, terminating: bool }),
  hostname: str,
  nodeName: str,
  zone: str,
});

const ingressSpec = struct('v1', 'IngressSpec', {
  ingressClassName: str,
  rules: sliceOf(
    struct('v1', 'IngressRule', {
      host: str,
      http: struct('v1', 'HTTPIngressRuleValue', {
        paths: sliceOf(
          struct('v1', 'HTTPIngressPath', {
            path: str,
            pathType: named('v1.PathType'),
            backend: struct('v1', 'IngressBackend', {
              service: struct('v1', 'IngressServiceBackend', { name: str, port: struct('v1', 'ServiceBackendPort', { name: str, number: int32 }) }),
            }),
          }),
        ),
      }),
    }),
  ),
});

/** What each kind adds to metadata (TypeMeta is checked before, against the URL). */
const KIND_FIELDS: Record<string, Record<string, GoType>> = {
  Namespace: { spec: struct('v1', 'NamespaceSpec', { finalizers: sliceOf(named('v1.FinalizerName')) }) },
  Node: { spec: struct('v1', 'NodeSpec', { podCIDR: str, podCIDRs: strings, unschedulable: bool }) },
  Pod: { spec: podSpec },
  Service: { spec: serviceSpec },
  ConfigMap: { data: stringMap, immutable: bool },
  // []byte fields are base64 strings in JSON
  Secret: { data: { kind: 'map', go: 'map[string][]uint8', value: { kind: 'string', go: '[]uint8' } }, stringData: stringMap, type: named('v1.SecretType'), immutable: bool },
  EndpointSlice: {
    addressType: named('v1.AddressType'),
    endpoints: sliceOf(endpoint),
    ports: sliceOf(struct('v1', 'EndpointPort', { name: str, protocol, port: int32, appProtocol: str })),
  },
  Deployment: { spec: deploymentSpec },
  ReplicaSet: { spec: replicaSetSpec },
  Ingress: { spec: ingressSpec },
  // autoscaling/v1, the body of deployments/{name}/scale and replicasets/{name}/scale
  Scale: { spec: struct('v1', 'ScaleSpec', { replicas: int32 }) },
};

const TOP_LEVEL = new Map<string, GoStruct>();

/** The Go struct a body of this kind is decoded into. */
export function goStructOf(kind: string): GoStruct {
  let s = TOP_LEVEL.get(kind);
  if (!s) {
    s = struct('v1', kind, { metadata: OBJECT_META, ...KIND_FIELDS[kind] });
    TOP_LEVEL.set(kind, s);
  }
  return s;
}
