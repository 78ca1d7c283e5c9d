// The record of every host resource a cluster created, in <stateDir>/resources.json, so that
// `kemu down` can remove all of it even after kill -9. A resource is recorded BEFORE it is created
// (write-ahead): a crash in between leaves a record of something that does not exist, which teardown
// skips, never something that exists without a record.
//
// The file is a stream of JSON objects, one per line (`jq . resources.json` reads it). Several
// processes append to it (up, the kubelets), so each record is one O_APPEND write; a line torn by a
// crash mid-write is ignored when reading. No fsync: what the ledger guards against is a process
// killed (its write is in the page cache and stays), while a host crash takes the namespaces, links,
// mounts and processes it lists with it (at worst a Pod's /etc/netns files outlive a record lost
// that way) — and fsync blocked a kubelet ~10 ms for every Pod.

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

/**
 * Appends the record; it outlives this process when this returns. A record written twice is
 * harmless (readLedger drops repeats), so nothing is read first and the cost stays the same however
 * long the ledger grows (a kubelet appends two records per Pod).
 */
export function recordResource(stateDir: string, record: ResourceRecord): void {
  fs.mkdirSync(stateDir, { recursive: true });
  const fd = fs.openSync(ledgerPath(stateDir), 'a+', 0o644);
  try {
    // Start on a fresh line when a crash tore the last one, so the torn line does not swallow this one.
    const { size } = fs.fstatSync(fd);
    const last = Buffer.alloc(1);
    const torn = size > 0 && fs.readSync(fd, last, 0, 1, size - 1) === 1 && last[0] !== 0x0a;
    fs.writeSync(fd, `${torn ? '\n' : ''}${JSON.stringify(record)}\n`);
  } finally {
    fs.closeSync(fd);
  }
}

/** Forget everything: called once teardown removed it all. */
export function clearLedger(stateDir: string): void {
  fs.rmSync(ledgerPath(stateDir), { force: true });
}
