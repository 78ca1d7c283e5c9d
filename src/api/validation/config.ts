// Secret and ConfigMap validation (pkg/apis/core/validation ValidateSecret, ValidateConfigMap and
// their updates: `immutable` freezes the data).

import { Buffer } from 'node:buffer';
import { fieldErrors, type FieldError } from '../errors.js';
import type { ConfigMap, Secret } from '../types.js';
import { deepEqual, nameIsDNSSubdomain, validateImmutable, validateObjectMeta, validateObjectMetaUpdate } from './meta.js';
import { isConfigMapKey } from './names.js';

/** Secrets and ConfigMaps hold at most 1 MiB of data. */
const MAX_DATA_SIZE = 1024 * 1024;
const FROZEN = 'field is immutable when `immutable` is set';

function validateKeys(data: Record<string, string> | undefined, field: string): FieldError[] {
  return Object.keys(data ?? {}).flatMap((k) => isConfigMapKey(k).map((m) => fieldErrors.invalid(`${field}[${k}]`, k, m)));
}

/** Keys a Secret of a well-known type must carry (kubernetes.io/tls, basic-auth, ssh-auth). */
function validateSecretType(secret: Secret): FieldError[] {
  const data = secret.data ?? {};
  const has = (k: string): boolean => Object.prototype.hasOwnProperty.call(data, k);
  switch (secret.type) {
    case 'kubernetes.io/tls':
      return ['tls.crt', 'tls.key'].filter((k) => !has(k)).map((k) => fieldErrors.required(`data[${k}]`));
    case 'kubernetes.io/basic-auth':
      return has('username') || has('password') ? [] : [fieldErrors.required('data[username]'), fieldErrors.required('data[password]')];
    case 'kubernetes.io/ssh-auth':
      return data['ssh-privatekey'] ? [] : [fieldErrors.required('data[ssh-privatekey]')];
    default:
      return [];
  }
}

export function validateSecret(secret: Secret): FieldError[] {
  const errs = [...validateObjectMeta(secret.metadata, true, nameIsDNSSubdomain), ...validateKeys(secret.data, 'data')];
  const size = Object.values(secret.data ?? {}).reduce((n, v) => n + Buffer.from(String(v), 'base64').length, 0);
  if (size > MAX_DATA_SIZE) errs.push(fieldErrors.tooLong('data', MAX_DATA_SIZE));
  return [...errs, ...validateSecretType(secret)];
}

export function validateSecretUpdate(secret: Secret, old: Secret): FieldError[] {
  const errs = [...validateObjectMetaUpdate(secret.metadata, old.metadata), ...validateImmutable(secret.type, old.type, 'type')];
  if (old.immutable) {
    if (!secret.immutable) errs.push(fieldErrors.forbidden('immutable', FROZEN));
    if (!deepEqual(secret.data, old.data)) errs.push(fieldErrors.forbidden('data', FROZEN));
  }
  return [...errs, ...validateSecret(secret)];
}

export function validateConfigMap(cm: ConfigMap): FieldError[] {
  const errs = [...validateObjectMeta(cm.metadata, true, nameIsDNSSubdomain), ...validateKeys(cm.data, 'data')];
  for (const k of Object.keys(cm.data ?? {})) {
    if (cm.binaryData && k in cm.binaryData) errs.push(fieldErrors.invalid(`data[${k}]`, k, 'duplicate of key present in binaryData'));
  }
  errs.push(...validateKeys(cm.binaryData, 'binaryData'));
  const size =
    Object.values(cm.data ?? {}).reduce((n, v) => n + Buffer.byteLength(String(v)), 0) +
    Object.values(cm.binaryData ?? {}).reduce((n, v) => n + Buffer.from(String(v), 'base64').length, 0);
  // An empty path: the error is about the whole object.
  if (size > MAX_DATA_SIZE) errs.push(fieldErrors.tooLong('', MAX_DATA_SIZE));
  return errs;
}

export function validateConfigMapUpdate(cm: ConfigMap, old: ConfigMap): FieldError[] {
  const errs = validateObjectMetaUpdate(cm.metadata, old.metadata);
  if (old.immutable) {
    if (!cm.immutable) errs.push(fieldErrors.forbidden('immutable', FROZEN));
    if (!deepEqual(cm.data, old.data)) errs.push(fieldErrors.forbidden('data', FROZEN));
    if (!deepEqual(cm.binaryData, old.binaryData)) errs.push(fieldErrors.forbidden('binaryData', FROZEN));
  }
  return [...errs, ...validateConfigMap(cm)];
}
