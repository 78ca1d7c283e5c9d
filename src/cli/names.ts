// How kubectl names a resource type in its messages: `deployment.apps/web created` (singular with
// its group), `deployments.apps "web" not found` and `timed out ... on deployments.apps/web` (plural).

import type { ResourceType } from '../api/resources.js';

const withGroup = (word: string, r: ResourceType): string => (r.group ? `${word}.${r.group}` : word);

/** `deployment.apps`, `pod` */
export function singularRef(r: ResourceType): string {
  return withGroup(r.singular, r);
}

/** `deployments.apps`, `pods` */
export function pluralRef(r: ResourceType): string {
  return withGroup(r.plural, r);
}

/** `deployment.apps/web`, as -o name prints it. */
export function objectRef(r: ResourceType, name: string): string {
  return `${singularRef(r)}/${name}`;
}
