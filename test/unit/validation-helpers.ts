// Shared by the validation-*.test.ts files: run defaults + validation the way the API server does
// and return the errors as the API prints them.

import { defaultClusterConfig } from '../../src/api/cluster.js';
import { applyDefaults } from '../../src/api/defaults.js';
import { fieldErrorString } from '../../src/api/errors.js';
import { resourceForKind } from '../../src/api/resources.js';
import type { KubeObject } from '../../src/api/types.js';
import { validateObject } from '../../src/api/validation/index.js';

export function errorsOf(obj: KubeObject, old?: KubeObject, opts: { defaults?: boolean } = {}): string[] {
  const r = resourceForKind(obj.apiVersion, obj.kind);
  if (!r) throw new Error(`unknown kind ${obj.kind}`);
  const o = structuredClone(obj);
  if (opts.defaults !== false) applyDefaults(r, o);
  return validateObject(r, o, old, { config: defaultClusterConfig() }).map(fieldErrorString);
}

/** The object after defaulting, as stored: the `old` of an update. */
export function stored<T extends KubeObject>(obj: T): T {
  const r = resourceForKind(obj.apiVersion, obj.kind);
  if (!r) throw new Error(`unknown kind ${obj.kind}`);
  const o = structuredClone(obj);
  applyDefaults(r, o);
  return o;
}

export const DNS1123_LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
export const DNS1123_SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
export const DNS1035_LABEL_MSG =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
