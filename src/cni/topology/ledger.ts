// The record of every host resource a cluster created, in <stateDir>/resources.json, so that
// `kemu down` can remove all of it even after kill -9. A resource is recorded BEFORE it is created
// (write-ahead): a crash in between leaves a record of something that does not exist, which teardown
// skips, never something that exists without a record.
//
// The file is a stream of JSON objects, one per line (`jq . resources.json` reads it). Several
// processes append to it (up, the kubelets), so each record is one O_APPEND write, fsync'd; a line
// torn by a crash mid-write is ignored when reading.

import fs from 'node:fs';
import path from 'node:path';

export type ResourceKind = 'netns' | 'link' | 'mount' | 'pid';

export interface ResourceRecord {
  kind: ResourceKind;
  name: string;
  /** The namespace a link lives in; absent = the root namespace. */
  ns?: string;
}

export function ledgerPath(stateDir: string): string {
  return path.join(stateDir, 'resources.json');
}

const KINDS: ReadonlySet<string> = new Set<ResourceKind>(['netns', 'link', 'mount', 'pid']);

function parseRecord(line: string): ResourceRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined; // a line torn by a crash
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { kind, name, ns } = value as Record<string, unknown>;
  if (typeof kind !== 'string' || !KINDS.has(kind) || typeof name !== 'string') return undefined;
  return { kind: kind as ResourceKind, name, ...(typeof ns === 'string' ? { ns } : {}) };
}

function sameRecord(a: ResourceRecord, b: ResourceRecord): boolean {
  return a.kind === b.kind && a.name === b.name && a.ns === b.ns;
}

function readLedgerText(stateDir: string): string {
  try {
    return fs.readFileSync(ledgerPath(stateDir), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw e;
  }
}

function parseLedger(text: string): ResourceRecord[] {
  const records: ResourceRecord[] = [];
  for (const line of text.split('\n')) {
    const record = line.trim() === '' ? undefined : parseRecord(line);
    if (record && !records.some((r) => sameRecord(r, record))) records.push(record);
  }
  return records;
}

/** Every record, in the order written, without duplicates. */
export function readLedger(stateDir: string): ResourceRecord[] {
  return parseLedger(readLedgerText(stateDir));
}

/** Appends the record unless it is already there; durable when this returns. */
export function recordResource(stateDir: string, record: ResourceRecord): void {
  const text = readLedgerText(stateDir);
  if (parseLedger(text).some((r) => sameRecord(r, record))) return;
  fs.mkdirSync(stateDir, { recursive: true });
  // Start on a fresh line when a crash tore the last one, so the torn line does not swallow this one.
  const torn = text !== '' && !text.endsWith('\n');
  const fd = fs.openSync(ledgerPath(stateDir), 'a', 0o644);
  try {
    fs.writeSync(fd, `${torn ? '\n' : ''}${JSON.stringify(record)}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Forget everything: called once teardown removed it all. */
export function clearLedger(stateDir: string): void {
  fs.rmSync(ledgerPath(stateDir), { force: true });
}
