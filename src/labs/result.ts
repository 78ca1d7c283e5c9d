// What `kemu lab check` reports: one outcome per check and per question, printed for a person or
// as JSON for an autograder. The JSON shape is labs/check-result.schema.json (schemaVersion 1).

export interface Outcome {
  id: string;
  type: 'check' | 'question';
  /** What the check verifies, or the question asked. */
  description: string;
  passed: boolean;
  /** Only on failure: what to look at next. */
  hint?: string;
  /** What the checker saw (never the true answer of a question). */
  detail?: string;
  /** Questions only: the answer given, null when none was. */
  answer?: string | null;
}

export interface LabResult {
  schemaVersion: 1;
  lab: string;
  title: string;
  cluster: string;
  passed: boolean;
  summary: { passed: number; total: number };
  results: Outcome[];
}

export function labResult(lab: string, title: string, cluster: string, results: Outcome[]): LabResult {
  const passed = results.filter((r) => r.passed).length;
  return { schemaVersion: 1, lab, title, cluster, passed: passed === results.length, summary: { passed, total: results.length }, results };
}

/** The report a student reads: PASS/FAIL per line, the hint and what was seen under each failure. */
export function formatResult(result: LabResult): string {
  const lines = [`Lab ${result.lab}: ${result.title} (cluster "${result.cluster}")`, ''];
  for (const r of result.results) {
    lines.push(`${r.passed ? 'PASS' : 'FAIL'}  ${r.type === 'question' ? 'question ' : ''}${r.id}: ${r.description}`);
    if (r.passed) continue;
    if (r.detail) lines.push(`      seen: ${r.detail}`);
    if (r.hint) lines.push(`      hint: ${r.hint}`);
  }
  lines.push('', `${result.summary.passed}/${result.summary.total} passed${result.passed ? ' — lab complete' : ''}`, '');
  return lines.join('\n');
}
