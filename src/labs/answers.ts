// A student's answers to a lab's questions: a YAML mapping of question id to value in
// ~/kemu-lab-NN-answers.yaml, written by `kemu lab answer NN QUESTION VALUE` or by hand.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';

export type Answers = Record<string, string>;

/** NN is the lab's two-digit number. */
export function answersFile(labNumber: string): string {
  return path.join(os.homedir(), `kemu-lab-${labNumber}-answers.yaml`);
}

/** The answers in a file; an absent file holds none. Values are kept as text (0.25, not a number). */
export function loadAnswers(file: string): Answers {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw e;
  }
  const doc: unknown = parse(text);
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new Error(`${file}: must be a mapping of question id to answer`);
  const answers: Answers = {};
  for (const [id, value] of Object.entries(doc)) if (value !== null && value !== undefined) answers[id] = String(value);
  return answers;
}

export function saveAnswer(file: string, question: string, value: string): void {
  const answers = { ...loadAnswers(file), [question]: value };
  fs.writeFileSync(file, stringify(answers));
}

/**
 * Whether a given answer is the true one: surrounding space and quotes do not matter, nor does
 * letter case (MACs, chain names); numbers compare by value (0.25 = 0.2500000000).
 */
export function sameAnswer(given: string, truth: string): boolean {
  const norm = (s: string) => s.trim().replace(/^(["'])(.*)\1$/, '$2').trim();
  const a = norm(given);
  const b = norm(truth);
  const numeric = /^-?\d+(\.\d+)?$/;
  if (numeric.test(a) && numeric.test(b)) return Math.abs(Number(a) - Number(b)) <= 1e-6 * Math.max(1, Math.abs(Number(b)));
  return a !== '' && a.toLowerCase() === b.toLowerCase();
}
