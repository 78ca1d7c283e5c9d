// kemu create -f FILE | namespace NAME | deployment NAME --image=I | configmap NAME | secret generic|tls NAME

import type { KubeObject } from '../../api/types.js';
import type { Args } from '../args.js';
import { withLastApplied } from '../apply-patch.js';
import type { Command, CommandContext } from '../context.js';
import { forEachReporting } from '../each.js';
import { CliError, withSource } from '../errors.js';
import { configMapObject, deploymentObject, genericSecretObject, namespaceObject, tlsSecretObject } from '../generators.js';
import { readManifests } from '../manifests.js';
import { objectRef } from '../names.js';
import { formatObjects, parseOutputFormat } from '../printers/output.js';
import { placeManifest } from '../targets.js';

/** The object a `create <kind> NAME` line describes. */
function generate(args: Args): KubeObject {
  const [kind, ...rest] = args.positionals;
  const needName = (name: string | undefined): string => {
    if (!name) throw new CliError('exactly one NAME is required, got 0');
    return name;
  };
  switch (kind) {
    case 'namespace':
    case 'ns':
      return namespaceObject(needName(rest[0]));
    case 'deployment':
    case 'deploy':
      return deploymentObject(needName(rest[0]), args.strings('image'), args.int('replicas') ?? 1, args.int('port'));
    case 'configmap':
    case 'cm':
      return configMapObject(needName(rest[0]), args.strings('from-literal'), args.strings('from-file'));
    case 'secret':
      if (rest[0] === 'generic') return genericSecretObject(needName(rest[1]), args.strings('from-literal'), args.strings('from-file'), args.string('type'));
      if (rest[0] === 'tls') return tlsSecretObject(needName(rest[1]), args.string('cert'), args.string('key'));
      throw new CliError(`unknown secret type "${rest[0] ?? ''}": use "generic" or "tls"`);
    default:
      throw new CliError(`unknown command "${kind}" for "kemu create"`);
  }
}

async function createOne(obj: KubeObject, source: string | undefined, args: Args, ctx: CommandContext): Promise<void> {
  const dryRun = args.string('dry-run') ?? 'none';
  if (dryRun !== 'none' && dryRun !== 'client') throw new CliError(`Invalid dry-run value (${dryRun}). Must be "none" or "client".`);
  const { r, namespace } = placeManifest(obj, source ?? 'the command line', ctx);
  const toSend = args.bool('save-config') ? withLastApplied(obj) : obj;
  const format = parseOutputFormat(args.string('output'));
  let created = toSend;
  if (dryRun === 'none') {
    created = await ctx.client().create(r, namespace, toSend).catch((e: unknown) => {
      throw source ? withSource(e, 'creating', source) : e;
    });
  }
  if (format.kind !== 'table') {
    ctx.out(formatObjects(format, [{ r, obj: created }], true));
    return;
  }
  ctx.out(`${objectRef(r, created.metadata.name ?? '')} created${dryRun === 'client' ? ' (dry run)' : ''}\n`);
}

export const createCommand: Command = {
  name: 'create',
  summary: 'Create a resource from a file or from stdin, or a namespace, deployment, configmap or secret',
  flags: {
    filename: { kind: 'strings', short: 'f' },
    recursive: { kind: 'boolean', short: 'R' },
    output: { kind: 'string', short: 'o' },
    'dry-run': { kind: 'string', noValueDefault: 'client' },
    'save-config': { kind: 'boolean' },
    image: { kind: 'strings' },
    replicas: { kind: 'string', short: 'r' },
    port: { kind: 'string' },
    'from-literal': { kind: 'strings' },
    'from-file': { kind: 'strings' },
    type: { kind: 'string' },
    cert: { kind: 'string' },
    key: { kind: 'string' },
  },
  async run(args, ctx) {
    const files = args.strings('filename');
    if (files.length > 0) {
      const manifests = await readManifests(files, { recursive: args.bool('recursive'), stdin: ctx.stdin });
      if (manifests.length === 0) throw new CliError('no objects passed to create');
      return forEachReporting(manifests, ctx, (m) => createOne(m.object, m.source, args, ctx));
    }
    if (args.positionals.length === 0) throw new CliError('must specify one of -f and -k');
    const obj = generate(args);
    await createOne(obj, undefined, args, ctx);
    return 0;
  },
};
