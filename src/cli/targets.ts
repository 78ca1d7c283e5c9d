// What objects a command line names: `pods`, `pods a b`, `pod/a svc/b`, `pods,services`, `all`.

import { resourceForKind, resourceForName, RESOURCES, type ResourceType } from '../api/resources.js';
import type { KubeObject } from '../api/types.js';
import type { CommandContext } from './context.js';
import { CliError } from './errors.js';

/** The `all` category, as kubectl expands it for the kinds kemu serves. */
const ALL_CATEGORY = ['pods', 'services', 'deployments', 'replicasets'];

export interface Target {
  r: ResourceType;
  /** Undefined: every object of the type (filtered by selectors). */
  names?: string[];
}

export function requireResource(word: string): ResourceType {
  const r = resourceForName(word);
  if (!r) throw new CliError(`the server doesn't have a resource type "${word}"`);
  return r;
}

function resourcesForList(word: string): ResourceType[] {
  return word
    .split(',')
    .filter((w) => w !== '')
    .flatMap((w) => (w.toLowerCase() === 'all' ? ALL_CATEGORY.map((p) => RESOURCES.find((r) => r.plural === p)!) : [requireResource(w)]));
}

/** Parse `TYPE[,TYPE] [NAME...]` or `TYPE/NAME...`; merges repeated types in order. */
export function parseTargets(positionals: string[]): Target[] {
  if (positionals.length === 0) return [];
  if (positionals.some((p) => p.includes('/'))) {
    const targets: Target[] = [];
    for (const p of positionals) {
      const slash = p.indexOf('/');
      if (slash <= 0 || slash === p.length - 1) {
        throw new CliError(`there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. 'kemu get resource/<resource_name>' instead of 'kemu get resource resource/<resource_name>'`);
      }
      const r = requireResource(p.slice(0, slash));
      const name = p.slice(slash + 1);
      const existing = targets.find((t) => t.r === r);
      if (existing) existing.names!.push(name);
      else targets.push({ r, names: [name] });
    }
    return targets;
  }
  const [types, ...names] = positionals;
  const rs = resourcesForList(types);
  return rs.map((r) => ({ r, names: names.length > 0 ? [...names] : undefined }));
}

/** The namespace a request for this resource goes to: undefined for cluster-scoped ones and -A. */
export function requestNamespace(r: ResourceType, ctx: CommandContext, forList = false): string | undefined {
  if (!r.namespaced) return undefined;
  if (forList && ctx.allNamespaces) return undefined;
  return ctx.namespace;
}

export interface PlacedManifest {
  r: ResourceType;
  namespace: string | undefined;
  name: string | undefined;
}

/**
 * Where a manifest object goes: its resource type and namespace (from the object, else -n, else
 * 'default'; a namespaced object gets it written into its metadata as kubectl does).
 */
export function placeManifest(obj: KubeObject, source: string, ctx: CommandContext): PlacedManifest {
  const r = resourceForKind(obj.apiVersion, obj.kind);
  if (!r) {
    throw new CliError(
      `resource mapping not found for name: "${obj.metadata.name ?? ''}" namespace: "${obj.metadata.namespace ?? ''}" from "${source}": no matches for kind "${obj.kind}" in version "${obj.apiVersion}"\nensure CRDs are installed first`,
    );
  }
  if (!r.namespaced) return { r, namespace: undefined, name: obj.metadata.name };
  const own = obj.metadata.namespace;
  if (own && ctx.namespaceExplicit && own !== ctx.namespace) {
    throw new CliError(`the namespace from the provided object "${own}" does not match the namespace "${ctx.namespace}". You must pass '--namespace=${own}' to perform this operation.`);
  }
  const namespace = own || ctx.namespace;
  obj.metadata.namespace = namespace;
  return { r, namespace, name: obj.metadata.name };
}
