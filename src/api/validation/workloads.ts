// Deployment and ReplicaSet validation (pkg/apis/apps/validation), including the selector
// immutability the apps/v1 registry enforces on update.

import { fieldErrors, GoSyntax, type FieldError } from '../errors.js';
import { matchesSelector, selectorFromLabelSelector, type Requirement } from '../labels.js';
import type { Deployment, LabelSelector, PodTemplateSpec, ReplicaSet } from '../types.js';
import { regexError } from './names.js';
import {
  goLabelSelector,
  goStringMap,
  nameIsDNSSubdomain,
  validateImmutable,
  validateLabelSelector,
  validateNonnegative,
  validateObjectMeta,
  validateObjectMetaUpdate,
} from './meta.js';
import { validatePodTemplateSpec } from './pod.js';

const PERCENT_RE = /^[0-9]+%$/;

/** spec.selector + spec.template as ReplicaSet-like controllers need them. */
function validateSelectorAndTemplate(
  selector: LabelSelector | undefined,
  template: PodTemplateSpec | undefined,
  path: string,
): FieldError[] {
  const errs: FieldError[] = [];
  if (!selector) {
    errs.push(fieldErrors.required(`${path}.selector`));
  } else {
    errs.push(...validateLabelSelector(selector, `${path}.selector`));
    if (Object.keys(selector.matchLabels ?? {}).length + (selector.matchExpressions ?? []).length === 0) {
      // Upstream says "deployment" for ReplicaSets too.
      errs.push(fieldErrors.invalid(`${path}.selector`, goLabelSelector(selector), 'empty selector is invalid for deployment'));
    }
  }
  let reqs: Requirement[] | undefined;
  try {
    reqs = selector ? selectorFromLabelSelector(selector) : undefined;
  } catch {
    errs.push(fieldErrors.invalid(`${path}.selector`, goLabelSelector(selector), 'invalid label selector'));
    return errs;
  }
  const tpath = `${path}.template`;
  if (!template) return [...errs, fieldErrors.required(tpath)];
  if (reqs && reqs.length > 0 && !matchesSelector(template.metadata?.labels, reqs)) {
    errs.push(fieldErrors.invalid(`${tpath}.metadata.labels`, goStringMap(template.metadata?.labels), '`selector` does not match template `labels`'));
  }
  errs.push(...validatePodTemplateSpec(template, tpath));
  const restartPolicy = template.spec?.restartPolicy;
  if (restartPolicy !== 'Always') errs.push(fieldErrors.notSupported(`${tpath}.spec.restartPolicy`, restartPolicy ?? '', ['Always']));
  if (template.spec?.activeDeadlineSeconds !== undefined) {
    errs.push(fieldErrors.forbidden(`${tpath}.spec.activeDeadlineSeconds`, 'activeDeadlineSeconds in ReplicaSet is not Supported'));
  }
  return errs;
}

type IntOrPercent = number | string | undefined;

/** IntOrString renders through its String(): 25% and 0 both unquoted. */
const shownIntOrPercent = (v: IntOrPercent): GoSyntax => new GoSyntax(String(v ?? 0));

function intOrPercentValue(v: IntOrPercent): number {
  if (typeof v === 'string') return PERCENT_RE.test(v) ? Number(v.slice(0, -1)) : 0;
  return v ?? 0;
}

function validatePositiveIntOrPercent(v: IntOrPercent, path: string): FieldError[] {
  if (typeof v === 'string') {
    return PERCENT_RE.test(v)
      ? []
      : [fieldErrors.invalid(path, shownIntOrPercent(v), regexError("a valid percent string must be a numeric string followed by an ending '%'", '[0-9]+%', '1%', '93%'))];
  }
  return validateNonnegative(v, path);
}

function validateStrategy(d: Deployment): FieldError[] {
  const strategy = d.spec.strategy ?? {};
  const path = 'spec.strategy';
  switch (strategy.type) {
    case 'Recreate':
      return strategy.rollingUpdate ? [fieldErrors.forbidden(`${path}.rollingUpdate`, "may not be specified when strategy `type` is 'Recreate'")] : [];
    case 'RollingUpdate': {
      const ru = strategy.rollingUpdate;
      if (!ru) return [fieldErrors.required(`${path}.rollingUpdate`, 'this should be defaulted and never be nil')];
      const rp = `${path}.rollingUpdate`;
      const errs = [...validatePositiveIntOrPercent(ru.maxUnavailable, `${rp}.maxUnavailable`), ...validatePositiveIntOrPercent(ru.maxSurge, `${rp}.maxSurge`)];
      if (intOrPercentValue(ru.maxUnavailable) === 0 && intOrPercentValue(ru.maxSurge) === 0) {
        errs.push(fieldErrors.invalid(`${rp}.maxUnavailable`, shownIntOrPercent(ru.maxUnavailable), 'may not be 0 when `maxSurge` is 0'));
      }
      if (typeof ru.maxUnavailable === 'string' && intOrPercentValue(ru.maxUnavailable) > 100) {
        errs.push(fieldErrors.invalid(`${rp}.maxUnavailable`, shownIntOrPercent(ru.maxUnavailable), 'must not be greater than 100%'));
      }
      return errs;
    }
    default:
      return [fieldErrors.notSupported(path, strategy.type ?? '', ['Recreate', 'RollingUpdate'])];
  }
}

export function validateDeployment(d: Deployment): FieldError[] {
  const spec = d.spec ?? ({} as Deployment['spec']);
  const dep: Deployment = { ...d, spec };
  const errs = validateObjectMeta(d.metadata, true, nameIsDNSSubdomain);
  errs.push(...validateNonnegative(spec.replicas, 'spec.replicas'));
  errs.push(...validateSelectorAndTemplate(spec.selector, spec.template, 'spec'));
  errs.push(...validateStrategy(dep));
  errs.push(...validateNonnegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  errs.push(...validateNonnegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'));
  if (spec.progressDeadlineSeconds !== undefined) {
    errs.push(...validateNonnegative(spec.progressDeadlineSeconds, 'spec.progressDeadlineSeconds'));
    if (spec.progressDeadlineSeconds <= (spec.minReadySeconds ?? 0)) {
      errs.push(fieldErrors.invalid('spec.progressDeadlineSeconds', spec.progressDeadlineSeconds, 'must be greater than minReadySeconds'));
    }
  }
  return errs;
}

export function validateReplicaSet(rs: ReplicaSet): FieldError[] {
  const spec = rs.spec ?? ({} as ReplicaSet['spec']);
  return [
    ...validateObjectMeta(rs.metadata, true, nameIsDNSSubdomain),
    ...validateNonnegative(spec.replicas, 'spec.replicas'),
    ...validateNonnegative(spec.minReadySeconds, 'spec.minReadySeconds'),
    ...validateSelectorAndTemplate(spec.selector, spec.template, 'spec'),
  ];
}

/** apps/v1 forbids changing the selector of a Deployment or ReplicaSet. */
function selectorUpdate(now: LabelSelector | undefined, before: LabelSelector | undefined): FieldError[] {
  return validateImmutable(now, before, 'spec.selector', goLabelSelector(now));
}

export function validateDeploymentUpdate(d: Deployment, old: Deployment): FieldError[] {
  return [...validateObjectMetaUpdate(d.metadata, old.metadata), ...validateDeployment(d), ...selectorUpdate(d.spec?.selector, old.spec?.selector)];
}

export function validateReplicaSetUpdate(rs: ReplicaSet, old: ReplicaSet): FieldError[] {
  return [...validateObjectMetaUpdate(rs.metadata, old.metadata), ...validateReplicaSet(rs), ...selectorUpdate(rs.spec?.selector, old.spec?.selector)];
}
