// errors: logs every reply that the chain failed to produce (SERVFAIL) with the query it was for.

import type { Directive } from '../../corefile/parse.js';
import { RCODE, typeName } from '../../wire/message.js';
import type { Plugin, SetupContext } from '../../plugin.js';

export function setupErrors(_d: Directive, ctx: SetupContext): Plugin {
  return {
    name: 'errors',
    async serve(req, next) {
      try {
        return await next(req);
      } catch (e) {
        ctx.log.error(`[ERROR] plugin/errors: ${RCODE.SERVFAIL} ${req.question.name} ${typeName(req.question.type)}: ${e instanceof Error ? e.message : String(e)}`);
        throw e;
      }
    },
  };
}
