// The fixed names of IPVS mode (upstream pkg/proxy/ipvs: proxier.go and ipset.go): the dummy
// device, the iptables chains and the ipsets with their types and comments. Unlike iptables mode the
// number of rules does not grow with the cluster: per-Service data lives in these sets.

/** The dummy interface every ClusterIP, externalIP and LB IP is bound to, so the kernel accepts it. */
export const DUMMY_DEVICE = 'kube-ipvs0';
export const DEFAULT_SCHEDULER = 'rr';

export const CHAINS = {
  services: 'KUBE-SERVICES',
  postrouting: 'KUBE-POSTROUTING',
  nodePort: 'KUBE-NODE-PORT',
  loadBalancer: 'KUBE-LOAD-BALANCER',
  markMasq: 'KUBE-MARK-MASQ',
  forward: 'KUBE-FORWARD',
  proxyFirewall: 'KUBE-PROXY-FIREWALL',
  sourceRangesFirewall: 'KUBE-SOURCE-RANGES-FIREWALL',
  ipvsFilter: 'KUBE-IPVS-FILTER',
  ipvsOutFilter: 'KUBE-IPVS-OUT-FILTER',
} as const;

/** Chains kube-proxy owns per table, in upstream's iptablesChains order (each declared, so flushed, every sync). */
export const NAT_CHAINS = [CHAINS.services, CHAINS.postrouting, CHAINS.nodePort, CHAINS.loadBalancer, CHAINS.markMasq] as const;
export const FILTER_CHAINS = [
  CHAINS.forward,
  CHAINS.nodePort,
  CHAINS.proxyFirewall,
  CHAINS.sourceRangesFirewall,
  CHAINS.ipvsFilter,
  CHAINS.ipvsOutFilter,
] as const;

export type IpsetType = 'hash:ip' | 'hash:ip,port' | 'hash:ip,port,ip' | 'hash:ip,port,net' | 'bitmap:port';

export interface IpsetInfo {
  name: string;
  type: IpsetType;
  comment: string;
}

const set = (name: string, type: IpsetType, comment: string): IpsetInfo => ({ name, type, comment });

export const IPSETS = {
  loopBack: set('KUBE-LOOP-BACK', 'hash:ip,port,ip', 'Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose'),
  clusterIP: set('KUBE-CLUSTER-IP', 'hash:ip,port', 'Kubernetes service cluster ip + port for masquerade purpose'),
  externalIP: set('KUBE-EXTERNAL-IP', 'hash:ip,port', 'Kubernetes service external ip + port for masquerade and filter purpose'),
  externalIPLocal: set('KUBE-EXTERNAL-IP-LOCAL', 'hash:ip,port', 'Kubernetes service external ip + port with externalTrafficPolicy=local'),
  loadBalancer: set('KUBE-LOAD-BALANCER', 'hash:ip,port', 'Kubernetes service lb portal'),
  loadBalancerFW: set('KUBE-LOAD-BALANCER-FW', 'hash:ip,port', 'Kubernetes service load balancer ip + port for load balancer with sourceRange'),
  loadBalancerLocal: set(
    'KUBE-LOAD-BALANCER-LOCAL',
    'hash:ip,port',
    'Kubernetes service load balancer ip + port with externalTrafficPolicy=local',
  ),
  loadBalancerSourceIP: set(
    'KUBE-LOAD-BALANCER-SOURCE-IP',
    'hash:ip,port,ip',
    'Kubernetes service load balancer ip + port + source IP for packet filter purpose',
  ),
  loadBalancerSourceCIDR: set(
    'KUBE-LOAD-BALANCER-SOURCE-CIDR',
    'hash:ip,port,net',
    'Kubernetes service load balancer ip + port + source cidr for packet filter purpose',
  ),
  nodePortTCP: set('KUBE-NODE-PORT-TCP', 'bitmap:port', 'Kubernetes nodeport TCP port for masquerade purpose'),
  nodePortLocalTCP: set('KUBE-NODE-PORT-LOCAL-TCP', 'bitmap:port', 'Kubernetes nodeport TCP port with externalTrafficPolicy=local'),
  nodePortUDP: set('KUBE-NODE-PORT-UDP', 'bitmap:port', 'Kubernetes nodeport UDP port for masquerade purpose'),
  nodePortLocalUDP: set('KUBE-NODE-PORT-LOCAL-UDP', 'bitmap:port', 'Kubernetes nodeport UDP port with externalTrafficPolicy=local'),
  nodePortSCTP: set('KUBE-NODE-PORT-SCTP-HASH', 'hash:ip,port', "Kubernetes nodeport SCTP port for masquerade purpose with type 'hash ip:port'"),
  nodePortLocalSCTP: set(
    'KUBE-NODE-PORT-LOCAL-SCTP-HASH',
    'hash:ip,port',
    "Kubernetes nodeport SCTP port with externalTrafficPolicy=local with type 'hash ip:port'",
  ),
  healthCheckNodePort: set('KUBE-HEALTH-CHECK-NODE-PORT', 'bitmap:port', 'Kubernetes health check node port'),
  ipvsIPs: set('KUBE-IPVS-IPS', 'hash:ip', 'Kubernetes ipvs access filter'),
} as const;

export type IpsetKey = keyof typeof IPSETS;

/** Every set, in upstream's ipsetInfo order (the order they are created in). */
export const ALL_IPSETS: readonly IpsetInfo[] = Object.values(IPSETS);
