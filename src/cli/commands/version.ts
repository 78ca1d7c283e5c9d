// kemu version [-o yaml|json] [--client]: the CLI's version and the API server's /version.

import type { Command } from '../context.js';
import { CliError, errorMessage } from '../errors.js';
import { toJson, toYaml } from '../printers/output.js';

/** The Kubernetes version kemu's API and CLI follow. */
export const CLIENT_VERSION = { major: '1', minor: '31', gitVersion: 'v1.31.0-kemu', platform: `${process.platform}/${process.arch}` };

export const versionCommand: Command = {
  name: 'version',
  summary: 'Print the client and server version information',
  flags: { output: { kind: 'string', short: 'o' }, client: { kind: 'boolean' } },
  async run(args, ctx) {
    const format = args.string('output');
    if (format !== undefined && format !== 'yaml' && format !== 'json') throw new CliError(`--output must be 'yaml' or 'json'`);
    let server: { gitVersion?: string } | undefined;
    let serverError: unknown;
    if (!args.bool('client')) {
      try {
        server = (await ctx.rawGet('/version')) as { gitVersion?: string };
      } catch (e) {
        serverError = e;
      }
    }
    if (format) {
      const doc = { clientVersion: CLIENT_VERSION, ...(server ? { serverVersion: server } : {}) };
      ctx.out(format === 'json' ? toJson(doc) : toYaml(doc));
    } else {
      ctx.out(`Client Version: ${CLIENT_VERSION.gitVersion}\n`);
      if (server) ctx.out(`Server Version: ${server.gitVersion ?? ''}\n`);
    }
    if (serverError) {
      ctx.err(`${errorMessage(serverError)}\n`);
      return 1;
    }
    return 0;
  },
};
