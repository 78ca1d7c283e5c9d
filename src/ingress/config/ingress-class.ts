// Which Ingresses are ours. The binding goes controller -> IngressClass.spec.controller ->
// Ingress.spec.ingressClassName; the deprecated annotation kubernetes.io/ingress.class is still
// honoured, the field winning when both are set. An Ingress with neither is taken only when one of
// our classes is the default class (the API server's admission plugin fills the field only on
// create, so older objects can still lack it).

import type { Ingress, IngressClass } from '../../api/types.js';

export const CONTROLLER_NAME = 'kemu.io/ingress-controller';
export const DEFAULT_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';
export const LEGACY_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';

export interface ClassSelection {
  /** names of IngressClasses whose controller is ours */
  ours: Set<string>;
  /** true when one of ours is marked default */
  defaultIsOurs: boolean;
}

export function selectClasses(classes: readonly IngressClass[], controller = CONTROLLER_NAME): ClassSelection {
  const ours = new Set<string>();
  let defaultIsOurs = false;
  for (const c of classes) {
    if (c.spec?.controller !== controller || !c.metadata.name) continue;
    ours.add(c.metadata.name);
    if (c.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true') defaultIsOurs = true;
  }
  return { ours, defaultIsOurs };
}

export function isOurs(ing: Ingress, sel: ClassSelection): boolean {
  const field = ing.spec?.ingressClassName;
  if (field) return sel.ours.has(field);
  const legacy = ing.metadata.annotations?.[LEGACY_CLASS_ANNOTATION];
  if (legacy) return sel.ours.has(legacy);
  return sel.defaultIsOurs;
}
