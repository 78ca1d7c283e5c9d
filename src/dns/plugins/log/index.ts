// log: one line per query in CoreDNS's common log format:
// {remote}:{port} - {>id} "{type} {class} {name} {proto} {size} {>do} {>bufsize}" {rcode} {>rflags} {rsize} {duration}

import type { Directive } from '../../corefile/parse.js';
import { rcodeName, typeName } from '../../wire/message.js';
import type { Plugin, Reply, SetupContext } from '../../plugin.js';

function rflags(r: Reply): string {
  return ['qr', r.aa && 'aa', r.tc && 'tc', r.ra && 'ra'].filter(Boolean).join(',');
}

export function setupLog(_d: Directive, ctx: SetupContext): Plugin {
  return {
    name: 'log',
    async serve(req, next) {
      const started = process.hrtime.bigint();
      const r = await next(req);
      const secs = Number(process.hrtime.bigint() - started) / 1e9;
      const q = req.question;
      ctx.log.info(
        `[INFO] ${req.remoteAddress} - "${typeName(q.type)} IN ${q.name} ${req.proto} ${req.do} ${req.udpSize || 512}" ${rcodeName(r.rcode)} ${rflags(r)} ${r.answer.length} ${secs.toFixed(6)}s`,
      );
      return r;
    },
  };
}
