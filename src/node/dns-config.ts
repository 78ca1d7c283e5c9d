// What a Pod's /etc/resolv.conf and /etc/hosts say, as the kubelet computes them (pkg/kubelet/network/dns
// and kubelet_pods.go) and containerd writes them. Pure: the node's own resolv.conf comes in as text.

import type { Pod } from '../api/types.js';

export interface DNSConfig {
  nameservers: string[];
  searches: string[];
  /** "ndots:5", "edns0", … */
  options: string[];
}

/** glibc's limits the kubelet enforces: 3 nameservers, 32 search domains of at most 2048 characters together. */
export const MAX_NAMESERVERS = 3;
export const MAX_DNS_SEARCH_PATHS = 32;
export const MAX_DNS_SEARCH_LIST_CHARS = 2048;

/** The nameserver, search and options lines of a resolv.conf (domain counts as a search). */
export function parseResolvConf(text: string): DNSConfig {
  const out: DNSConfig = { nameservers: [], searches: [], options: [] };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const [key, ...fields] = line.split(/\s+/);
    if (key === 'nameserver' && fields[0]) out.nameservers.push(fields[0]);
    else if (key === 'search' || key === 'domain') out.searches = fields.filter((f) => f !== '.');
    else if (key === 'options') out.options.push(...fields);
  }
  return out;
}

const unique = (list: string[]) => [...new Set(list)];

/** name → "name:value"; a later option with the same name replaces the earlier one (mergeDNSOptions). */
function mergeOptions(existing: string[], extra: { name: string; value?: string }[]): string[] {
  const byName = new Map<string, string>();
  for (const opt of existing) byName.set(opt.split(':')[0]!, opt);
  for (const opt of extra) byName.set(opt.name, opt.value !== undefined && opt.value !== '' ? `${opt.name}:${opt.value}` : opt.name);
  return [...byName.values()];
}

/** The pod's effective dnsPolicy: ClusterFirst falls back to Default for hostNetwork Pods. */
function effectivePolicy(pod: Pod): 'ClusterFirst' | 'Default' | 'None' {
  const policy = pod.spec.dnsPolicy ?? 'ClusterFirst';
  if (policy === 'None') return 'None';
  if (policy === 'Default') return 'Default';
  if (policy === 'ClusterFirstWithHostNet') return 'ClusterFirst';
  return pod.spec.hostNetwork ? 'Default' : 'ClusterFirst';
}

function fitSearches(searches: string[]): string[] {
  const out: string[] = [];
  let chars = 0;
  for (const s of searches.slice(0, MAX_DNS_SEARCH_PATHS)) {
    chars += s.length + (out.length > 0 ? 1 : 0);
    if (chars > MAX_DNS_SEARCH_LIST_CHARS) break;
    out.push(s);
  }
  return out;
}

/** The DNS settings for the Pod (GetPodDNS), given the cluster's DNS Service IP and domain and the node's resolv.conf. */
export function podDNSConfig(pod: Pod, cluster: { dnsServiceIP: string; clusterDomain: string }, nodeResolvConf: string): DNSConfig {
  const host = parseResolvConf(nodeResolvConf);
  let dns: DNSConfig;
  switch (effectivePolicy(pod)) {
    case 'None':
      dns = { nameservers: [], searches: [], options: [] };
      break;
    case 'Default':
      dns = host;
      break;
    case 'ClusterFirst': {
      const domain = cluster.clusterDomain;
      const ns = pod.metadata.namespace ?? 'default';
      dns = {
        nameservers: [cluster.dnsServiceIP],
        searches: [`${ns}.svc.${domain}`, `svc.${domain}`, domain, ...host.searches],
        options: ['ndots:5'],
      };
      break;
    }
  }
  const extra = pod.spec.dnsConfig;
  if (extra) {
    dns = {
      nameservers: unique([...dns.nameservers, ...(extra.nameservers ?? [])]),
      searches: unique([...dns.searches, ...(extra.searches ?? [])]),
      options: mergeOptions(dns.options, extra.options ?? []),
    };
  }
  return { nameservers: dns.nameservers.slice(0, MAX_NAMESERVERS), searches: fitSearches(unique(dns.searches)), options: dns.options };
}

/** resolv.conf as containerd writes it from the CRI DNSConfig: search, nameservers, options. */
export function resolvConfText(dns: DNSConfig): string {
  let text = '';
  if (dns.searches.length > 0) text += `search ${dns.searches.join(' ')}\n`;
  for (const server of dns.nameservers) text += `nameserver ${server}\n`;
  if (dns.options.length > 0) text += `options ${dns.options.join(' ')}\n`;
  return text;
}

const HOSTNAME_MAX = 63;

/** spec.hostname or the Pod's name, cut to 63 characters without a trailing '-' or '.'; the domain when spec.subdomain is set. */
export function podHostnameAndDomain(pod: Pod, clusterDomain: string): { hostname: string; domain?: string } {
  let hostname = pod.spec.hostname || pod.metadata.name || '';
  if (hostname.length > HOSTNAME_MAX) hostname = hostname.slice(0, HOSTNAME_MAX).replace(/[-.]+$/, '');
  const subdomain = pod.spec.subdomain;
  if (!subdomain) return { hostname };
  return { hostname, domain: `${subdomain}.${pod.metadata.namespace ?? 'default'}.svc.${clusterDomain}` };
}

interface HostAlias {
  ip: string;
  hostnames?: string[];
}

/** /etc/hosts as the kubelet writes it for a Pod (managedHostsFileContent). */
export function hostsFileText(pod: Pod, podIPs: string[], clusterDomain: string): string {
  const { hostname, domain } = podHostnameAndDomain(pod, clusterDomain);
  let text =
    '# Kubernetes-managed hosts file.\n' +
    '127.0.0.1\tlocalhost\n' +
    '::1\tlocalhost ip6-localhost ip6-loopback\n' +
    'fe00::0\tip6-localnet\n' +
    'fe00::0\tip6-mcastprefix\n' +
    'fe00::1\tip6-allnodes\n' +
    'fe00::2\tip6-allrouters\n';
  for (const ip of podIPs) text += domain ? `${ip}\t${hostname}.${domain}\t${hostname}\n` : `${ip}\t${hostname}\n`;
  const aliases = (pod.spec.hostAliases ?? []) as HostAlias[];
  if (aliases.length > 0) {
    text += '\n# Entries added by HostAliases.\n';
    for (const alias of aliases) text += `${alias.ip}\t${(alias.hostnames ?? []).join('\t')}\n`;
  }
  return text;
}
