// How the CLI reports failures, in kubectl's words (cmdutil.CheckErr / StandardErrorMessage):
// `Error from server (NotFound): pods "x" not found`, `The Service "web" is invalid: ...`,
// `error: <message>` for everything that did not come from the API server.

import { ApiError, isApiError } from '../api/errors.js';

/** A failure on the client side; printed as `error: <message>`. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

/** The text kubectl prints for an error (without the trailing newline). */
export function errorMessage(e: unknown): string {
  if (isApiError(e)) {
    const s = e.status;
    if (s.reason === 'Invalid' && s.details?.causes?.length) {
      const causes = s.details.causes.map((c) => (c.field ? `${c.field}: ${c.message ?? ''}` : c.message ?? ''));
      const list = causes.length === 1 ? causes[0] : `\n${causes.map((c) => `* ${c}`).join('\n')}`;
      return `The ${s.details.kind ?? 'object'} "${s.details.name ?? '<unknown>'}" is invalid: ${list}`;
    }
    return s.reason ? `Error from server (${s.reason}): ${s.message ?? ''}` : `Error from server: ${s.message ?? ''}`;
  }
  return `error: ${e instanceof Error ? e.message : String(e)}`;
}

/** An API error re-worded with where the object came from: `error when creating "web.yaml": ...`. */
export function withSource(e: unknown, verb: string, source: string): unknown {
  if (!isApiError(e)) return e;
  return new ApiError({ ...e.status, message: `error when ${verb} "${source}": ${e.status.message ?? ''}` });
}
