// Grading a lab against the live cluster: every check's probe compared with its expectation, and
// every question's given answer compared with the value computed from the cluster right now — so
// an answer copied from another cluster, or guessed, does not pass.

import { sameAnswer, type Answers } from './answers.js';
import type { LabEnv } from './env.js';
import { expand } from './placeholders.js';
import { runProbe } from './probes.js';
import type { Outcome } from './result.js';
import type { CheckSpec, LabSpec, QuestionSpec } from './spec.js';

type Seen = { values: string[] } | { error: string };

async function observe(env: LabEnv, probe: CheckSpec['probe']): Promise<Seen> {
  try {
    return { values: await runProbe(env, probe) };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

const shown = (values: string[]): string => (values.length === 0 ? 'nothing' : values.map((v) => JSON.stringify(v)).join(', '));

async function judge(env: LabEnv, check: CheckSpec, seen: Seen): Promise<{ passed: boolean; detail: string }> {
  const { expect } = check;
  if (expect.fails) return 'error' in seen ? { passed: true, detail: seen.error } : { passed: false, detail: `it succeeded: ${shown(seen.values)}` };
  if ('error' in seen) return { passed: false, detail: seen.error };
  if (expect.empty) return { passed: seen.values.length === 0, detail: shown(seen.values) };
  if (expect.equals !== undefined) {
    const want = await expand(env, expect.equals, 'text');
    return { passed: seen.values.some((v) => sameAnswer(v, want)), detail: `${shown(seen.values)}, expected ${JSON.stringify(want)}` };
  }
  const pattern = new RegExp(await expand(env, expect.matches ?? '', 'regex'));
  return { passed: seen.values.some((v) => pattern.test(v)), detail: `${shown(seen.values)}, expected a match of /${expect.matches}/` };
}

async function gradeCheck(env: LabEnv, check: CheckSpec): Promise<Outcome> {
  const seen = await observe(env, check.probe);
  const { passed, detail } = await judge(env, check, seen).catch((e: Error) => ({ passed: false, detail: e.message }));
  // a fixed fault is named in the description: the only place a passed check says what it saw
  const description = passed && check.probe.kind === 'fault' && 'values' in seen ? `${check.description} — ${seen.values[0]}` : check.description;
  return { id: check.id, type: 'check', description, passed, ...(passed ? {} : { hint: check.hint, detail }) };
}

async function gradeQuestion(env: LabEnv, question: QuestionSpec, given: string | undefined): Promise<Outcome> {
  const base = { id: question.id, type: 'question' as const, description: question.ask, answer: given ?? null };
  if (given === undefined) return { ...base, passed: false, hint: question.hint, detail: 'no answer given' };
  const truth = await observe(env, question.answer);
  if ('error' in truth) return { ...base, passed: false, hint: question.hint, detail: `the cluster is not in the state this question is about: ${truth.error}` };
  const passed = truth.values.some((v) => sameAnswer(given, v));
  return passed ? { ...base, passed } : { ...base, passed, hint: question.hint, detail: `${JSON.stringify(given)} is not what the cluster shows` };
}

/** Every check, then every question, in the order lab.yaml lists them. */
export async function gradeLab(env: LabEnv, spec: LabSpec, answers: Answers): Promise<Outcome[]> {
  const checks = await Promise.all(spec.checks.map((c) => gradeCheck(env, c)));
  const questions = await Promise.all(spec.questions.map((q) => gradeQuestion(env, q, answers[q.id])));
  return [...checks, ...questions];
}
