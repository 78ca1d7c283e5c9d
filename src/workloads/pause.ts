// The pause image (registry.k8s.io/pause): hold the Pod's namespaces and do nothing until told
// to stop; SIGTERM or SIGINT ends it with exit 0, as pause.c does. `-v` prints the version.

import { keepAlive, onTermination } from './lifecycle.js';

const signalDescription: Partial<Record<NodeJS.Signals, string>> = { SIGTERM: 'Terminated', SIGINT: 'Interrupt' };

export function run(args: string[]): void {
  if (args[0] === '-v') {
    process.stdout.write('pause.c v3.10\n');
    return;
  }
  keepAlive();
  onTermination((signal) => {
    process.stderr.write(`Shutting down, got signal: ${signalDescription[signal] ?? signal}\n`);
  });
}
