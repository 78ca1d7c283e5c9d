// kemu api-resources [--namespaced=true|false] [-o name]: the resource types the API serves.

import { apiVersionOf, RESOURCES } from '../../api/resources.js';
import type { Command } from '../context.js';
import { CliError } from '../errors.js';
import { TABLE_LAYOUT, tabwrite } from '../printers/tabwriter.js';

export const apiResourcesCommand: Command = {
  name: 'api-resources',
  summary: 'Print the supported API resources',
  flags: { namespaced: { kind: 'boolean' }, output: { kind: 'string', short: 'o' } },
  async run(args, ctx) {
    const output = args.string('output');
    if (output !== undefined && output !== 'name' && output !== 'wide') throw new CliError(`--output ${output} is not available`);
    // kubectl sorts by group (core first), then by name.
    const rows = RESOURCES.filter((r) => !args.has('namespaced') || r.namespaced === args.bool('namespaced')).sort(
      (a, b) => (a.group === b.group ? (a.plural < b.plural ? -1 : 1) : a.group < b.group ? -1 : 1),
    );
    if (output === 'name') {
      ctx.out(rows.map((r) => `${r.group ? `${r.plural}.${r.group}` : r.plural}\n`).join(''));
      return 0;
    }
    const lines = [['NAME', 'SHORTNAMES', 'APIVERSION', 'NAMESPACED', 'KIND'], ...rows.map((r) => [r.plural, r.shortNames.join(','), apiVersionOf(r), String(r.namespaced), r.kind])];
    ctx.out(tabwrite(lines.map((l) => `${l.join('\t')}\n`).join(''), TABLE_LAYOUT));
    return 0;
  },
};
