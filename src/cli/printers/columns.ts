// Which columns `kemu get` prints for each resource type, as kubectl's server-side table printers
// (k8s.io/kubernetes/pkg/printers/internalversion) define them. Wide columns only show with -o wide
// and may sit between the others (events do that).

import type { ResourceType } from '../../api/resources.js';
import { AGE_COLUMN, NAME_COLUMN, type Column } from './column.js';
import { APPS_COLUMNS } from './columns-apps.js';
import { CORE_COLUMNS } from './columns-core.js';
import { NETWORKING_COLUMNS } from './columns-networking.js';

const DEFAULT_COLUMNS: Column[] = [NAME_COLUMN, AGE_COLUMN];

const BY_PLURAL: Record<string, Column[]> = { ...CORE_COLUMNS, ...APPS_COLUMNS, ...NETWORKING_COLUMNS };

export function columnsFor(r: ResourceType, wide: boolean): Column[] {
  const all = BY_PLURAL[r.plural] ?? DEFAULT_COLUMNS;
  return wide ? all : all.filter((c) => !c.wide);
}
