// Discovery documents (/api, /apis, /api/v1, /apis/{group}[/{version}]) and /version, as kubectl
// reads them to learn which resources, short names and verbs the server has.

import { arch } from 'node:os';
import { RESOURCES } from '../resources.js';
import { subresourcesOf } from './subresources.js';

const RESOURCE_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export function versionInfo(): Record<string, string> {
  const goArch: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm' };
  return {
    major: '1',
    minor: '31',
    gitVersion: 'v1.31.0-kemu',
    gitCommit: '',
    gitTreeState: 'clean',
    buildDate: '',
    goVersion: `node${process.versions.node}`,
    compiler: 'kemu',
    platform: `${process.platform}/${goArch[arch()] ?? arch()}`,
  };
}

export function apiVersions(): object {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] };
}

function groupVersion(group: string, version: string): { groupVersion: string; version: string } {
  return { groupVersion: `${group}/${version}`, version };
}

function apiGroup(group: string): object {
  const versions = [...new Set(RESOURCES.filter((r) => r.group === group).map((r) => r.version))].map((v) => groupVersion(group, v));
  return { name: group, versions, preferredVersion: versions[0] };
}

export function apiGroupList(): object {
  const groups = [...new Set(RESOURCES.filter((r) => r.group !== '').map((r) => r.group))];
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: groups.map(apiGroup) };
}

export function apiGroupDocument(group: string): object {
  return { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(group) };
}

export function apiResourceList(group: string, version: string): object {
  const resources = RESOURCES.filter((r) => r.group === group && r.version === version).flatMap((r) => [
    { name: r.plural, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: RESOURCE_VERBS, ...(r.shortNames.length > 0 ? { shortNames: r.shortNames } : {}) },
    ...subresourcesOf(r).map((s) => ({
      name: `${r.plural}/${s.name}`,
      singularName: '',
      namespaced: r.namespaced,
      ...(s.group !== r.group || s.version !== r.version ? { group: s.group, version: s.version } : {}),
      kind: s.kind,
      verbs: s.verbs,
    })),
  ]);
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources };
}
