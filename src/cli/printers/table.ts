// `kemu get` tables: one header line, one row per object, columns aligned as kubectl's tabwriter
// does (minwidth 6, padding 3). A TablePrinter remembers its column widths so that rows printed
// later by a watch stay aligned under the first ones, as kubectl's does.

import type { ResourceType } from '../../api/resources.js';
import type { KubeObject } from '../../api/types.js';
import { objectRef } from '../names.js';
import { TABLE_LAYOUT } from './tabwriter.js';
import { columnsFor } from './columns.js';
import { formatLabels } from './format.js';

export interface TableOptions {
  wide: boolean;
  /** -A: a NAMESPACE column first. */
  withNamespace: boolean;
  /** Several resource types in one command: NAME shows `kind/name`. */
  withKind: boolean;
  showLabels: boolean;
  /** Read per row: a watch prints rows long after the printer was made. */
  now(): number;
}

export class TablePrinter {
  private widths: number[] = [];
  private headerPrinted = false;

  constructor(
    private readonly r: ResourceType,
    private readonly opts: TableOptions,
  ) {}

  header(): string[] {
    const cols = columnsFor(this.r, this.opts.wide).map((c) => c.header);
    if (this.opts.withNamespace) cols.unshift('NAMESPACE');
    if (this.opts.showLabels) cols.push('LABELS');
    return cols;
  }

  row(obj: KubeObject): string[] {
    const name = obj.metadata.name ?? '';
    const ctx = { now: this.opts.now(), name: this.opts.withKind ? objectRef(this.r, name) : name };
    const cells = columnsFor(this.r, this.opts.wide).map((c) => c.value(obj, ctx));
    if (this.opts.withNamespace) cells.unshift(obj.metadata.namespace ?? '');
    if (this.opts.showLabels) cells.push(formatLabels(obj.metadata.labels));
    return cells;
  }

  /** The lines for these objects, with the header before the first batch. */
  print(objs: KubeObject[]): string {
    const rows = objs.map((o) => this.row(o));
    if (!this.headerPrinted) {
      rows.unshift(this.header());
      this.headerPrinted = true;
    }
    for (const row of rows) {
      row.forEach((cell, i) => {
        this.widths[i] = Math.max(this.widths[i] ?? TABLE_LAYOUT.minWidth, [...cell].length + TABLE_LAYOUT.padding);
      });
    }
    return rows.map((row) => row.map((cell, i) => (i < row.length - 1 ? cell.padEnd(this.widths[i]) : cell)).join('') + '\n').join('');
  }
}
