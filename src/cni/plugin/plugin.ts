// kemu-cni as a function: CNI_* environment and stdin in, stdout text and exit code out — what the
// skel of the reference plugins does around a plugin's ADD/DEL/CHECK/VERSION.

import { bridgeAdd, bridgeCheck, bridgeDel } from './bridge.js';
import { parseBridgeConfig, parseEnv, parseNetworkConfig } from './config.js';
import { CNI_VERSION, CniError, ErrorCode, SUPPORTED_VERSIONS, renderError, renderResult } from './result.js';

export interface PluginOutput {
  stdout: string;
  exitCode: number;
}

/** Go's json.MarshalIndent with four spaces, as the reference plugins print. */
const print = (value: unknown) => `${JSON.stringify(value, null, 4)}\n`;

export async function runPlugin(env: Record<string, string | undefined>, stdin: string): Promise<PluginOutput> {
  let cniVersion = CNI_VERSION;
  try {
    const args = parseEnv(env);
    if (args.command === 'VERSION') {
      return { stdout: print({ cniVersion: CNI_VERSION, supportedVersions: SUPPORTED_VERSIONS }), exitCode: 0 };
    }
    const raw = parseNetworkConfig(stdin);
    cniVersion = raw.cniVersion as string;
    const conf = parseBridgeConfig(raw);
    switch (args.command) {
      case 'ADD':
        return { stdout: print(renderResult(await bridgeAdd(conf, args), cniVersion)), exitCode: 0 };
      case 'DEL':
        await bridgeDel(conf, args);
        return { stdout: '', exitCode: 0 };
      case 'CHECK':
        await bridgeCheck(conf, args);
        return { stdout: '', exitCode: 0 };
    }
  } catch (e) {
    const error = e instanceof CniError ? e : new CniError(ErrorCode.Internal, (e as Error).message);
    return { stdout: print(renderError(error, cniVersion)), exitCode: 1 };
  }
}
