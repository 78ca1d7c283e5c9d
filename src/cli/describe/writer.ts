// kubectl describe's output: lines of tab-separated cells, indented two spaces per level, aligned by
// a tabwriter at the end (minwidth 0, padding 2). Plus the blocks every describer shares.

import type { KubeObject } from '../../api/types.js';
import { LAST_APPLIED_ANNOTATION } from '../apply-patch.js';
import { DESCRIBE_LAYOUT, tabwrite } from '../printers/tabwriter.js';

export class DescribeWriter {
  private text = '';

  /** One line at an indent level; cells are separated by tabs. */
  line(level: number, ...cells: string[]): this {
    this.text += `${'  '.repeat(level)}${cells.join('\t')}\n`;
    return this;
  }

  /** `Title:  k=v` then one `k=v` per line under the first, or `<none>`. */
  map(level: number, title: string, m: Record<string, string> | undefined, sep = '='): this {
    const keys = Object.keys(m ?? {}).sort();
    if (keys.length === 0) return this.line(level, `${title}:`, '<none>');
    keys.forEach((k, i) => this.line(level, i === 0 ? `${title}:` : '', `${k}${sep}${m![k]}`));
    return this;
  }

  /** Name, Namespace, Labels, Annotations: the head most describers start with. */
  objectHead(obj: KubeObject, namespaced: boolean): this {
    this.line(0, 'Name:', obj.metadata.name ?? '');
    if (namespaced) this.line(0, 'Namespace:', obj.metadata.namespace ?? '');
    this.map(0, 'Labels', obj.metadata.labels);
    return this.annotations(obj);
  }

  /** Annotations without the last-applied one, which kubectl hides. */
  annotations(obj: KubeObject, level = 0): this {
    const shown = Object.fromEntries(Object.entries(obj.metadata.annotations ?? {}).filter(([k]) => k !== LAST_APPLIED_ANNOTATION));
    return this.map(level, 'Annotations', shown, ': ');
  }

  /** Append already formatted text (an Events block). */
  raw(text: string): this {
    this.text += text;
    return this;
  }

  toString(): string {
    return tabwrite(this.text, DESCRIBE_LAYOUT);
  }
}

/** Go's time.RFC1123Z in local time, as describe prints timestamps: Mon, 02 Jan 2006 15:04:05 -0700. */
export function describeTime(ts: string | undefined): string {
  if (!ts) return '<unset>';
  const d = new Date(ts);
  if (Number.isNaN(d.getTime())) return ts;
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p2 = (n: number): string => String(n).padStart(2, '0');
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const zone = `${sign}${p2(Math.floor(Math.abs(off) / 60))}${p2(Math.abs(off) % 60)}`;
  return `${days[d.getDay()]}, ${p2(d.getDate())} ${months[d.getMonth()]} ${d.getFullYear()} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())} ${zone}`;
}

/** Go's %v of a bool as describe capitalises it. */
export function describeBool(b: boolean | undefined): string {
  return b ? 'True' : 'False';
}
