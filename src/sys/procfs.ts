// Facts about a process from /proc: its start time (which, with the pid, names one process for
// good — a pid alone may be reused), its resident memory and its process group.

import fs from 'node:fs';

/** The fields after "pid (comm)"; comm may contain spaces and parentheses, so split after the last ')'. */
function statFields(pid: number): string[] | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  return text.slice(text.lastIndexOf(')') + 2).split(' ');
}

/** starttime (field 22, clock ticks after boot), or undefined when the process is gone. */
export function processStartTicks(pid: number): number | undefined {
  const fields = statFields(pid);
  // fields[0] is field 3 (state)
  const ticks = fields?.[19];
  return ticks === undefined ? undefined : Number(ticks);
}

/** True when pid runs and is still the process that started at startTicks (and is not a zombie). */
export function isSameProcess(pid: number, startTicks: number | undefined): boolean {
  const fields = statFields(pid);
  if (!fields || fields[0] === 'Z') return false;
  return startTicks === undefined || Number(fields[19]) === startTicks;
}

/** Pids of the processes in a process group (e.g. a container and its children). */
export function processGroupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(Number(entry));
    // field 5 (pgrp) is fields[2]
    if (fields && Number(fields[2]) === pgid) out.push(Number(entry));
  }
  return out;
}

/** Resident set size in KiB (VmRSS), 0 when the process is gone. */
export function processRssKiB(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Proportional set size in KiB (shared pages divided among their users), 0 when the process is gone. */
export function processPssKiB(pid: number): number {
  try {
    const m = /^Pss:\s+(\d+)\s+kB/m.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}
