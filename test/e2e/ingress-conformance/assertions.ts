// One conformance case's expectations checked against a response, as the Go runner's steps check
// them: status, the echoed service / host / method / path / proto / request headers, the response
// protocol and headers, and for https that the leaf certificate verifies for the host. Returns the
// mismatches in words, so a failing case says everything that is wrong at once.

import { checkServerIdentity } from 'node:tls';
import type { CaseExpect } from './fixtures.js';
import type { ConformanceResponse } from './go-client.js';

const PRESENT = '*';

export function caseProblems(expect: CaseExpect, res: ConformanceResponse): string[] {
  const problems: string[] = [];
  const want = (what: string, expected: unknown, actual: unknown) => {
    if (expected !== undefined && expected !== actual) problems.push(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  };
  want('status', expect.status, res.status);
  want('echoed service', expect.service, res.echo?.service);
  want('response proto', expect.responseProto, res.proto);
  const echo = expect.echo ?? {};
  want('echoed method', echo.method, res.echo?.method);
  want('echoed path', echo.path, res.echo?.path);
  want('echoed proto', echo.proto, res.echo?.proto);
  want('echoed host', echo.host, res.echo?.host);
  for (const [name, value] of Object.entries(echo.headers ?? {})) {
    const got = res.echo?.headers?.[name];
    if (!got?.length) problems.push(`echoed request header ${name}: missing`);
    else if (value !== PRESENT && !got.includes(value)) problems.push(`echoed request header ${name}: expected ${JSON.stringify(value)}, got ${JSON.stringify(got)}`);
  }
  for (const name of expect.responseHeadersPresent ?? []) {
    if (res.headers[name.toLowerCase()] === undefined) problems.push(`response header ${name}: missing`);
  }
  const host = expect.tlsCertificateVerifiesHostname;
  if (host !== undefined) {
    const cert = res.peerCertificate;
    if (!cert?.raw) problems.push(`certificate for ${host}: the server presented none`);
    else {
      const err = checkServerIdentity(host, cert);
      if (err) problems.push(`certificate for ${host}: ${err.message}`);
    }
  }
  return problems;
}
