// kubectl goes on after one object fails and exits 1 at the end: run a step per item, print each
// failure as kubectl words it, and return the exit code.

import type { CommandContext } from './context.js';
import { errorMessage } from './errors.js';

export async function forEachReporting<T>(items: T[], ctx: CommandContext, step: (item: T) => Promise<void>): Promise<number> {
  let failed = false;
  for (const item of items) {
    try {
      await step(item);
    } catch (e) {
      failed = true;
      ctx.err(`${errorMessage(e)}\n`);
    }
  }
  return failed ? 1 : 0;
}
