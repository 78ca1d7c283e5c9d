// Node validation: a DNS-subdomain name, valid pod CIDRs set at most once, well-formed taints.

import { fieldErrors, type FieldError } from '../errors.js';
import type { Node } from '../types.js';
import { nameIsDNSSubdomain, validateObjectMeta, validateObjectMetaUpdate } from './meta.js';
import { isQualifiedName, isValidCIDR, isValidLabelValue } from './names.js';

const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

export function validateNode(node: Node): FieldError[] {
  const errs = validateObjectMeta(node.metadata, false, nameIsDNSSubdomain);
  const cidrs = node.spec?.podCIDRs ?? [];
  cidrs.forEach((c, i) => errs.push(...isValidCIDR(c).map((m) => fieldErrors.invalid(`spec.podCIDRs[${i}]`, c, m))));
  if (cidrs.length > 2) errs.push(fieldErrors.invalid('spec.podCIDRs', cidrs, 'may specify no more than one CIDR for each IP family'));
  (node.spec?.taints ?? []).forEach((t, i) => {
    const path = `spec.taints[${i}]`;
    for (const m of isQualifiedName(t.key ?? '')) errs.push(fieldErrors.invalid(`${path}.key`, t.key ?? '', m));
    if (t.value) for (const m of isValidLabelValue(t.value)) errs.push(fieldErrors.invalid(`${path}.value`, t.value, m));
    if (!t.effect) errs.push(fieldErrors.required(`${path}.effect`));
    else if (!TAINT_EFFECTS.includes(t.effect)) errs.push(fieldErrors.notSupported(`${path}.effect`, t.effect, TAINT_EFFECTS));
  });
  return errs;
}

/** A node's pod CIDRs go from unset to set once (the IPAM controller's job) and never change after. */
export function validateNodeUpdate(node: Node, old: Node): FieldError[] {
  const errs = [...validateObjectMetaUpdate(node.metadata, old.metadata), ...validateNode(node)];
  const before = old.spec?.podCIDRs ?? [];
  const now = node.spec?.podCIDRs ?? [];
  if (before.length > 0 && (before.length !== now.length || before.some((c, i) => c !== now[i]))) {
    errs.push(fieldErrors.forbidden('spec.podCIDRs', 'node updates may not change podCIDR except from "" to valid'));
  }
  return errs;
}
