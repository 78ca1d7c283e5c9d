// netexec's /shell: run a command with /bin/sh -c, stdin empty, stdout and stderr combined in the
// order they arrive; the error reads as Go's exec error ("exit status 3").

import { spawn } from 'node:child_process';

export interface ShellResult {
  output: string;
  error?: string;
}

export function runShell(cmd: string): Promise<ShellResult> {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', cmd], { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => chunks.push(c));
    child.on('error', (err) => resolve({ output: '', error: `fork/exec /bin/sh: ${err.message}` }));
    child.on('close', (code, signal) => {
      const output = Buffer.concat(chunks).toString();
      if (signal) resolve({ output, error: `signal: ${signalName(signal)}` });
      else if (code !== 0) resolve({ output, error: `exit status ${code}` });
      else resolve({ output });
    });
  });
}

function signalName(signal: NodeJS.Signals): string {
  const names: Partial<Record<NodeJS.Signals, string>> = { SIGKILL: 'killed', SIGTERM: 'terminated', SIGINT: 'interrupt' };
  return names[signal] ?? signal;
}
