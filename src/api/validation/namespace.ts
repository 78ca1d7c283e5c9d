// Namespace validation: the name is a DNS-1123 label, as it becomes part of DNS names.

import type { FieldError } from '../errors.js';
import type { Namespace } from '../types.js';
import { nameIsDNSLabel, validateObjectMeta, validateObjectMetaUpdate } from './meta.js';

export function validateNamespace(ns: Namespace): FieldError[] {
  return validateObjectMeta(ns.metadata, false, nameIsDNSLabel);
}

export function validateNamespaceUpdate(ns: Namespace, old: Namespace): FieldError[] {
  return [...validateObjectMetaUpdate(ns.metadata, old.metadata), ...validateNamespace(ns)];
}
