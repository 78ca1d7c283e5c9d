// Object metadata and the checks every kind shares (apimachinery's ValidateObjectMeta and
// ValidateObjectMetaUpdate, label and annotation rules, label selectors, immutable fields), plus the
// helpers that render values the way Go's %#v prints them in upstream messages.

import { Buffer } from 'node:buffer';
import { fieldErrors, GoSyntax, type FieldError } from '../errors.js';
import type { LabelSelector, ObjectMeta } from '../types.js';
import { isDNS1123Label, isDNS1123Subdomain, isQualifiedName, isValidLabelValue } from './names.js';

/** A name rule: messages for `name`; `prefix` is true for generateName, which may end in '-'. */
export type NameRule = (name: string, prefix: boolean) => string[];

/** generateName is checked as if the random suffix were there: a trailing '-' is fine. */
const masked = (check: (s: string) => string[]): NameRule => (name, prefix) =>
  check(prefix && name.endsWith('-') ? `${name.slice(0, -1)}a` : name);

export const nameIsDNSSubdomain: NameRule = masked(isDNS1123Subdomain);
export const nameIsDNSLabel: NameRule = masked(isDNS1123Label);

/** Total bytes of annotation keys and values an object may carry. */
const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;
const IMMUTABLE = 'field is immutable';

export function validateLabels(labels: Record<string, string> | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(labels ?? {})) {
    for (const m of isQualifiedName(k)) errs.push(fieldErrors.invalid(path, k, m));
    for (const m of isValidLabelValue(String(v))) errs.push(fieldErrors.invalid(path, v, m));
  }
  return errs;
}

export function validateAnnotations(annotations: Record<string, string> | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  let size = 0;
  for (const [k, v] of Object.entries(annotations ?? {})) {
    // Annotation keys follow the label key rule, case-insensitively.
    for (const m of isQualifiedName(k.toLowerCase())) errs.push(fieldErrors.invalid(path, k, m));
    size += Buffer.byteLength(k) + Buffer.byteLength(String(v));
  }
  if (size > TOTAL_ANNOTATION_SIZE_LIMIT) errs.push(fieldErrors.tooLong(path, TOTAL_ANNOTATION_SIZE_LIMIT));
  return errs;
}

export function validateNonnegative(value: number | undefined, path: string): FieldError[] {
  return value !== undefined && value < 0 ? [fieldErrors.invalid(path, value, 'must be greater than or equal to 0')] : [];
}

function validateOwnerReferences(meta: ObjectMeta, path: string): FieldError[] {
  const errs: FieldError[] = [];
  (meta.ownerReferences ?? []).forEach((ref, i) => {
    const p = `${path}[${i}]`;
    const version = (ref.apiVersion ?? '').split('/').pop() ?? '';
    if (!version) errs.push(fieldErrors.invalid(`${p}.apiVersion`, ref.apiVersion ?? '', 'version must not be empty'));
    if (!ref.kind) errs.push(fieldErrors.invalid(`${p}.kind`, ref.kind ?? '', 'kind must not be empty'));
    if (!ref.name) errs.push(fieldErrors.invalid(`${p}.name`, ref.name ?? '', 'name must not be empty'));
    if (!ref.uid) errs.push(fieldErrors.invalid(`${p}.uid`, ref.uid ?? '', 'uid must not be empty'));
  });
  return errs;
}

/** ValidateObjectMeta: name (or generateName), namespace presence, labels, annotations, owners. */
export function validateObjectMeta(meta: ObjectMeta | undefined, namespaced: boolean, nameRule: NameRule, path = 'metadata'): FieldError[] {
  const m = meta ?? {};
  const errs: FieldError[] = [];
  if (m.generateName) {
    for (const msg of nameRule(m.generateName, true)) errs.push(fieldErrors.invalid(`${path}.generateName`, m.generateName, msg));
  }
  if (!m.name) errs.push(fieldErrors.required(`${path}.name`, 'name or generateName is required'));
  else for (const msg of nameRule(m.name, false)) errs.push(fieldErrors.invalid(`${path}.name`, m.name, msg));
  if (namespaced) {
    if (!m.namespace) errs.push(fieldErrors.required(`${path}.namespace`));
    else for (const msg of nameIsDNSLabel(m.namespace, false)) errs.push(fieldErrors.invalid(`${path}.namespace`, m.namespace, msg));
  } else if (m.namespace) {
    errs.push(fieldErrors.forbidden(`${path}.namespace`, 'not allowed on this type'));
  }
  errs.push(...validateNonnegative(m.generation, `${path}.generation`));
  errs.push(...validateLabels(m.labels, `${path}.labels`));
  errs.push(...validateAnnotations(m.annotations, `${path}.annotations`));
  errs.push(...validateOwnerReferences(m, `${path}.ownerReferences`));
  return errs;
}

/**
 * ValidateObjectMetaUpdate, for what a client can send: identity fields stay, and an object being
 * deleted takes no new finalizers. (The server keeps timestamps itself, as rest.BeforeUpdate does.)
 */
export function validateObjectMetaUpdate(meta: ObjectMeta, old: ObjectMeta, path = 'metadata'): FieldError[] {
  const errs: FieldError[] = [];
  if (old.deletionTimestamp) {
    const added = (meta.finalizers ?? []).filter((f) => !(old.finalizers ?? []).includes(f));
    if (added.length) {
      errs.push(
        fieldErrors.forbidden(
          `${path}.finalizers`,
          `no new finalizers can be added if the object is being deleted, found new finalizers ${goStrings([...new Set(added)].sort())}`,
        ),
      );
    }
  }
  errs.push(...validateImmutable(meta.name ?? '', old.name ?? '', `${path}.name`));
  errs.push(...validateImmutable(meta.namespace ?? '', old.namespace ?? '', `${path}.namespace`));
  if (meta.uid) errs.push(...validateImmutable(meta.uid, old.uid ?? '', `${path}.uid`));
  return errs;
}

/** `field is immutable` when the value changed; `shown` is what the message prints (default: the new value). */
export function validateImmutable(value: unknown, old: unknown, path: string, shown: unknown = value): FieldError[] {
  return deepEqual(value, old) ? [] : [fieldErrors.invalid(path, shown, IMMUTABLE)];
}

/** Structural equality of JSON values, where an absent field equals an undefined one. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

// ---- label selectors (metav1 validation) ------------------------------------------------------

export function validateLabelSelector(sel: LabelSelector | undefined, path: string): FieldError[] {
  if (!sel) return [];
  const errs = validateLabels(sel.matchLabels, `${path}.matchLabels`);
  (sel.matchExpressions ?? []).forEach((expr, i) => {
    const p = `${path}.matchExpressions[${i}]`;
    const values = expr.values ?? [];
    switch (expr.operator as string) {
      case 'In':
      case 'NotIn':
        if (values.length === 0) errs.push(fieldErrors.required(`${p}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0) errs.push(fieldErrors.forbidden(`${p}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
        break;
      default:
        errs.push(fieldErrors.invalid(`${p}.operator`, expr.operator, 'not a valid selector operator'));
    }
    for (const m of isQualifiedName(expr.key ?? '')) errs.push(fieldErrors.invalid(`${p}.key`, expr.key ?? '', m));
    values.forEach((v, j) => {
      for (const m of isValidLabelValue(v)) errs.push(fieldErrors.invalid(`${p}.values[${j}]`, v, m));
    });
  });
  return errs;
}

// ---- Go %#v renderings used in upstream messages ----------------------------------------------

const q = (s: string): string => JSON.stringify(s);

export function goStrings(list: string[] | undefined): string {
  return list === undefined ? '[]string(nil)' : `[]string{${list.map(q).join(', ')}}`;
}

/** `map[string]string{"a":"b", "c":"d"}` (keys sorted, as fmt prints maps) or `map[string]string(nil)`. */
export function goStringMap(m: Record<string, string> | undefined): GoSyntax {
  if (m === undefined) return new GoSyntax('map[string]string(nil)');
  const body = Object.keys(m)
    .sort()
    .map((k) => `${q(k)}:${q(String(m[k]))}`)
    .join(', ');
  return new GoSyntax(`map[string]string{${body}}`);
}

/** A metav1.LabelSelector as %#v prints it in `field is immutable` and selector messages. */
export function goLabelSelector(sel: LabelSelector | undefined): GoSyntax {
  const s = sel ?? {};
  const exprs =
    s.matchExpressions === undefined
      ? '[]v1.LabelSelectorRequirement(nil)'
      : `[]v1.LabelSelectorRequirement{${s.matchExpressions
          .map((e) => `v1.LabelSelectorRequirement{Key:${q(e.key)}, Operator:${q(e.operator)}, Values:${goStrings(e.values)}}`)
          .join(', ')}}`;
  return new GoSyntax(`v1.LabelSelector{MatchLabels:${goStringMap(s.matchLabels).text}, MatchExpressions:${exprs}}`);
}
