// One column of a `kemu get` table and the two every resource type has (NAME, AGE).

import type { KubeObject } from '../../api/types.js';
import { age } from './age.js';

export interface CellContext {
  now: number;
  /** What the NAME column shows: the name, or `kind/name` when several types are printed. */
  name: string;
}

export interface Column<T extends KubeObject = KubeObject> {
  header: string;
  /** Only shown with -o wide. */
  wide?: true;
  value(obj: T, ctx: CellContext): string;
}

export const NAME_COLUMN: Column = { header: 'NAME', value: (_o, ctx) => ctx.name };
export const AGE_COLUMN: Column = { header: 'AGE', value: (o, ctx) => age(o.metadata.creationTimestamp, ctx.now) };

/** Widen typed columns to the KubeObject signature the registry holds. */
export function typed<T extends KubeObject>(cols: Column<T>[]): Column[] {
  return cols as unknown as Column[];
}
