// agnhost pause: print "Paused" and wait. Unlike the pause image, upstream exits 1 on SIGINT and
// 2 on SIGTERM (after --delay-shutdown seconds), and kemu keeps those codes.

import { parseFlags } from '../flags.js';
import { keepAlive, onTermination } from '../lifecycle.js';

const flagSpec = { 'delay-shutdown': { kind: 'int', default: 0 } } as const;

export function run(args: string[]): void {
  const flags = parseFlags(args, flagSpec);
  keepAlive();
  onTermination(async (signal) => {
    const code = signal === 'SIGINT' ? 1 : 2;
    const delay = flags['delay-shutdown'];
    if (delay > 0) {
      process.stdout.write(`Sleeping ${delay} seconds before exit ...`);
      await new Promise((resolve) => setTimeout(resolve, delay * 1000));
    }
    process.stdout.write(`exiting ${code}\n`);
    return code;
  });
  process.stdout.write('Paused\n');
}
