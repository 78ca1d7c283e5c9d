// A lab's lab.yaml: the cluster shape it needs, the manifests of its starting state, the checks
// that grade it and the questions whose true answers are computed from the live cluster. Parsing
// validates every field and names the one that is wrong, so a broken lab fails when it loads.

import { parse } from 'yaml';
import type { ClusterConfig } from '../api/cluster.js';
import { FAULT_NAMES } from './faults.js';

/** Where a probe runs a program or sends a request from: the host, or a Pod picked by label selector (and node). */
export type Origin = 'host' | PodOrigin;
export interface PodOrigin {
  pod: string;
  node?: string;
  /** The Pods' namespace; default `default`. */
  namespace?: string;
}

/** How a program's output becomes values: all of it, the first group of each match of capture (or only the first), or the number of lines matching count. */
export interface CommandOutput {
  capture?: string;
  first: boolean;
  count?: string;
}

/**
 * How a value is read from the live cluster. Strings may hold placeholders ({nodeIP:worker}, see
 * placeholders.ts). Every probe yields a list of values (several Pods may match, for instance).
 */
export type Probe =
  /** The body of an HTTP GET made with curl from the origin. */
  | { kind: 'http'; from: Origin; url: string; timeoutSeconds: number }
  /** kubectl-style JSONPath over one API object in `namespace` (default `default`; cluster-scoped kinds ignore it). */
  | { kind: 'field'; resource: string; name: string; namespace?: string; jsonpath: string }
  /** A program run inside a node's network namespace. */
  | ({ kind: 'nodeCommand'; node: string; argv: string[] } & CommandOutput)
  /** A program run inside a Pod, as `kemu exec` runs it. */
  | ({ kind: 'podCommand'; from: PodOrigin; argv: string[] } & CommandOutput)
  /** A program run on the host (curl with --resolve, openssl s_client, …). */
  | ({ kind: 'hostCommand'; argv: string[] } & CommandOutput)
  /** Lab 08's injected fault: yields its name once it is fixed, fails (without naming it) before. */
  | { kind: 'fault' }
  /** Every Pod of the selector fetches http://<each other Pod's IP>:<port><path>; yields the pairs that failed. */
  | { kind: 'mesh'; selector: string; port: number; path: string }
  /** A value made of placeholders only, e.g. "{gateway}". */
  | { kind: 'template'; value: string };

export interface Expectation {
  equals?: string;
  matches?: string;
  /** The probe must fail (e.g. a request must not get through). */
  fails?: boolean;
  /** The probe must yield nothing (e.g. no failed pairs). */
  empty?: boolean;
}

export interface CheckSpec {
  id: string;
  description: string;
  probe: Probe;
  expect: Expectation;
  hint: string;
  /** The check passes in the starting state: `start` returns (or injects a fault) only once it does. */
  atStart: boolean;
}

export interface QuestionSpec {
  id: string;
  ask: string;
  /** How the true answer is computed from the live cluster. */
  answer: Probe;
  hint: string;
}

export interface ClusterShape {
  workers: number;
  backend: ClusterConfig['backend'];
  proxyMode: ClusterConfig['proxyMode'];
}

export interface LabSpec {
  title: string;
  cluster: ClusterShape;
  /** Paths relative to the lab folder, applied in order by `kemu lab start` and `reset`. */
  manifests: string[];
  /** Faults `start` picks one of at random and injects into the starting state (faults.ts); none for most labs. */
  faults: string[];
  checks: CheckSpec[];
  questions: QuestionSpec[];
}

export class LabSpecError extends Error {
  constructor(source: string, field: string, problem: string) {
    super(`${source}: ${field}: ${problem}`);
    this.name = 'LabSpecError';
  }
}

type Obj = Record<string, unknown>;

/** Field accessors that throw LabSpecError naming the full field path. */
class Reader {
  constructor(
    private readonly source: string,
    readonly path: string,
    readonly value: Obj,
  ) {}

  static of(source: string, path: string, value: unknown): Reader {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new LabSpecError(source, path, 'must be a mapping');
    return new Reader(source, path, value as Obj);
  }

  fail(field: string, problem: string): never {
    const sep = this.path && field ? '.' : '';
    throw new LabSpecError(this.source, `${this.path}${sep}${field}` || '(document)', problem);
  }

  has(field: string): boolean {
    return this.value[field] !== undefined;
  }

  string(field: string, fallback?: string): string {
    const v = this.value[field];
    if (v === undefined && fallback !== undefined) return fallback;
    if (typeof v !== 'string' || v === '') this.fail(field, 'required non-empty string');
    return v;
  }

  optionalString(field: string): string | undefined {
    return this.has(field) ? this.string(field) : undefined;
  }

  int(field: string, fallback: number): number {
    const v = this.value[field];
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) this.fail(field, 'must be a non-negative integer');
    return v;
  }

  bool(field: string): boolean {
    const v = this.value[field];
    if (v === undefined) return false;
    if (typeof v !== 'boolean') this.fail(field, 'must be true or false');
    return v;
  }

  oneOf<T extends string>(field: string, allowed: readonly T[], fallback: T): T {
    const v = this.value[field] ?? fallback;
    if (!(allowed as readonly unknown[]).includes(v)) this.fail(field, `must be one of ${allowed.join(', ')}`);
    return v as T;
  }

  strings(field: string): string[] {
    const v = this.value[field];
    if (!Array.isArray(v) || v.length === 0 || !v.every((s) => typeof s === 'string')) this.fail(field, 'must be a non-empty list of strings');
    return v as string[];
  }

  child(field: string): Reader {
    if (!this.has(field)) this.fail(field, 'required');
    return Reader.of(this.source, `${this.path}${this.path ? '.' : ''}${field}`, this.value[field]);
  }

  list(field: string): Reader[] {
    const v = this.value[field];
    if (v === undefined) return [];
    if (!Array.isArray(v)) this.fail(field, 'must be a list');
    return v.map((item, i) => Reader.of(this.source, `${this.path}${this.path ? '.' : ''}${field}[${i}]`, item));
  }
}

/** A regular expression field must compile; checked here so a lab author sees it at load time. */
function regex(r: Reader, field: string): string | undefined {
  const v = r.optionalString(field);
  if (v === undefined) return undefined;
  try {
    new RegExp(v);
  } catch (e) {
    r.fail(field, `invalid regular expression: ${(e as Error).message}`);
  }
  return v;
}

function parsePodOrigin(r: Reader): PodOrigin {
  const from = r.child('from');
  return { pod: from.string('pod'), node: from.optionalString('node'), namespace: from.optionalString('namespace') };
}

function parseOrigin(r: Reader): Origin {
  if (!r.has('from') || r.value.from === 'host') return 'host';
  return parsePodOrigin(r);
}

function parseOutput(r: Reader): CommandOutput {
  return { capture: regex(r, 'capture'), first: r.bool('first'), count: regex(r, 'count') };
}

const PROBE_KINDS = ['http', 'field', 'nodeCommand', 'podCommand', 'hostCommand', 'mesh', 'template', 'fault'] as const;

function parseProbe(r: Reader): Probe {
  const kind = r.oneOf('kind', PROBE_KINDS, 'http');
  switch (kind) {
    case 'http':
      return { kind, from: parseOrigin(r), url: r.string('url'), timeoutSeconds: r.int('timeoutSeconds', 3) };
    case 'field':
      return { kind, resource: r.string('resource'), name: r.string('name'), namespace: r.optionalString('namespace'), jsonpath: r.string('jsonpath') };
    case 'nodeCommand':
      return { kind, node: r.string('node'), argv: r.strings('argv'), ...parseOutput(r) };
    case 'podCommand':
      return { kind, from: parsePodOrigin(r), argv: r.strings('argv'), ...parseOutput(r) };
    case 'hostCommand':
      return { kind, argv: r.strings('argv'), ...parseOutput(r) };
    case 'fault':
      return { kind };
    case 'mesh':
      return { kind, selector: r.string('selector'), port: r.int('port', 8080), path: r.string('path', '/hostname') };
    case 'template':
      return { kind, value: r.string('value') };
  }
}

function parseExpectation(r: Reader): Expectation {
  const e: Expectation = { equals: r.optionalString('equals'), matches: regex(r, 'matches'), fails: r.bool('fails'), empty: r.bool('empty') };
  const given = [e.equals !== undefined, e.matches !== undefined, e.fails, e.empty].filter(Boolean).length;
  if (given !== 1) r.fail('', 'exactly one of equals, matches, fails: true, empty: true');
  return e;
}

function knownFaults(r: Reader, names: string[]): string[] {
  names.forEach((n, i) => {
    if (!FAULT_NAMES.includes(n)) r.fail(`faults[${i}]`, `unknown fault "${n}"; known: ${FAULT_NAMES.join(', ')}`);
  });
  return names;
}

const ID = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function uniqueIds<T extends { id: string }>(r: Reader, field: string, items: T[]): T[] {
  const seen = new Set<string>();
  items.forEach((item, i) => {
    if (!ID.test(item.id)) r.fail(`${field}[${i}].id`, 'must be lowercase letters, digits and dashes');
    if (seen.has(item.id)) r.fail(`${field}[${i}].id`, `duplicate id "${item.id}"`);
    seen.add(item.id);
  });
  return items;
}

/** Parse and validate a lab.yaml text; `source` names it in errors. */
export function parseLabSpec(text: string, source: string): LabSpec {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw new LabSpecError(source, '(document)', (e as Error).message.split('\n')[0]);
  }
  const r = Reader.of(source, '', doc);
  const cluster = r.child('cluster');
  const checks = r.list('checks').map((c) => ({
    id: c.string('id'),
    description: c.string('description'),
    probe: parseProbe(c.child('probe')),
    expect: parseExpectation(c.child('expect')),
    hint: c.string('hint'),
    atStart: c.bool('atStart'),
  }));
  const questions = r.list('questions').map((q) => ({ id: q.string('id'), ask: q.string('ask'), answer: parseProbe(q.child('answer')), hint: q.string('hint') }));
  if (checks.length + questions.length === 0) r.fail('checks', 'a lab needs at least one check or question');
  if (r.has('faults') && !checks.some((c) => c.atStart)) r.fail('checks', 'a lab with faults needs checks marked atStart: true (the healthy state a fault breaks)');
  return {
    title: r.string('title'),
    cluster: {
      workers: cluster.int('workers', 2),
      backend: cluster.oneOf('backend', ['vxlan', 'host-gw', 'none'], 'vxlan'),
      proxyMode: cluster.oneOf('proxyMode', ['iptables', 'nftables', 'ipvs'], 'iptables'),
    },
    manifests: r.strings('manifests'),
    faults: r.has('faults') ? knownFaults(r, r.strings('faults')) : [],
    checks: uniqueIds(r, 'checks', checks),
    questions: uniqueIds(r, 'questions', questions),
  };
}
