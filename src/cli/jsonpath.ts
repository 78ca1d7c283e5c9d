// The part of kubectl's JSONPath templates that labs use: `{.status.phase}`,
// `{.items[*].metadata.name}`, `{.metadata.labels['app\.kubernetes\.io/name']}`, `{.spec.ports[0].port}`
// with literal text between the braces. No range/end, filters or recursive descent.

type Step = { field: string } | { index: number } | { all: true };

function parsePath(expr: string): Step[] {
  const steps: Step[] = [];
  let i = 0;
  const s = expr.trim();
  if (s === '' || s === '.' || s === '$' || s === '@') return steps;
  while (i < s.length) {
    const ch = s[i];
    if (ch === '$' && i === 0) {
      i++;
    } else if (ch === '.') {
      let j = i + 1;
      let name = '';
      while (j < s.length && s[j] !== '.' && s[j] !== '[') {
        if (s[j] === '\\' && j + 1 < s.length) j++;
        name += s[j];
        j++;
      }
      if (name === '') throw new Error(`unrecognized character in action: ${s.slice(i)}`);
      steps.push({ field: name });
      i = j;
    } else if (ch === '[') {
      const close = s.indexOf(']', i);
      if (close < 0) throw new Error(`unclosed array expect ]`);
      const inner = s.slice(i + 1, close).trim();
      if (inner === '*') steps.push({ all: true });
      else if (/^-?\d+$/.test(inner)) steps.push({ index: Number(inner) });
      else if (/^'.*'$|^".*"$/.test(inner)) steps.push({ field: inner.slice(1, -1).replace(/\\\./g, '.') });
      else throw new Error(`invalid array index ${inner}`);
      i = close + 1;
    } else if (i === 0) {
      // `{metadata.name}` without the leading dot, which kubectl accepts too
      steps.push(...parsePath(`.${s}`));
      return steps;
    } else {
      throw new Error(`unrecognized character in action: ${s.slice(i)}`);
    }
  }
  return steps;
}

/** Every value the path reaches (several after [*]); missing fields reach nothing. */
export function evaluatePath(root: unknown, expr: string): unknown[] {
  let current: unknown[] = [root];
  for (const step of parsePath(expr)) {
    const next: unknown[] = [];
    for (const v of current) {
      if ('field' in step) {
        if (v !== null && typeof v === 'object' && !Array.isArray(v) && step.field in v) next.push((v as Record<string, unknown>)[step.field]);
      } else if (Array.isArray(v)) {
        if ('all' in step) next.push(...v);
        else {
          const idx = step.index < 0 ? v.length + step.index : step.index;
          if (idx >= 0 && idx < v.length) next.push(v[idx]);
        }
      }
    }
    current = next;
  }
  return current;
}

/** A value as JSONPath text prints it: strings bare, everything else as JSON. */
export function jsonpathText(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** Fill a template: literal text kept, each {path} replaced by its values joined by spaces. */
export function renderTemplate(template: string, root: unknown): string {
  let out = '';
  let i = 0;
  while (i < template.length) {
    const open = template.indexOf('{', i);
    if (open < 0) {
      out += template.slice(i);
      break;
    }
    out += template.slice(i, open);
    const close = template.indexOf('}', open);
    if (close < 0) throw new Error(`unclosed action`);
    out += evaluatePath(root, template.slice(open + 1, close)).map(jsonpathText).join(' ');
    i = close + 1;
  }
  return out;
}
