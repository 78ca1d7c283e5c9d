import { execFile } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseHelperCall, startCniHelper, type RunningHelper } from '../../src/cni/plugin/helper.js';
import { runPlugin } from '../../src/cni/plugin/plugin.js';

const PLUGIN = path.resolve(import.meta.dirname, '../../bin/kemu-cni');

describe('kemu-cni helper wire format', () => {
  const call = (header: string, body: string) => Buffer.from(`${header}\n\n${body}`);

  it('waits for the whole header and body, then takes only the CNI variables', () => {
    const body = '{"name":"cbr0","x":"é"}';
    const full = call(`CNI_COMMAND=ADD\nCNI_ARGS=K8S_POD_NAME=a;IgnoreUnknown=1\nHOME=/root\nSTDIN_BYTES=${Buffer.byteLength(body)}`, body);
    expect(parseHelperCall(full.subarray(0, 20))).toBeUndefined();
    expect(parseHelperCall(full.subarray(0, full.length - 1))).toBeUndefined();
    expect(parseHelperCall(full)).toEqual({ env: { CNI_COMMAND: 'ADD', CNI_ARGS: 'K8S_POD_NAME=a;IgnoreUnknown=1' }, stdin: body });
  });

  it('refuses a call without a valid body length or with a line that is not KEY=VALUE', () => {
    expect(() => parseHelperCall(call('CNI_COMMAND=ADD', ''))).toThrow('STDIN_BYTES');
    expect(() => parseHelperCall(call('CNI_COMMAND=ADD\nSTDIN_BYTES=x', ''))).toThrow('STDIN_BYTES');
    expect(() => parseHelperCall(call('garbage\nSTDIN_BYTES=0', ''))).toThrow('malformed header line');
  });
});

describe('bin/kemu-cni through the helper', () => {
  let helper: RunningHelper;
  beforeAll(async () => {
    helper = await startCniHelper(() => {});
  });
  afterAll(async () => {
    await helper.stop();
  });

  const exec = (env: Record<string, string>, stdin: string) =>
    new Promise<{ code: number; stdout: string }>((resolve) => {
      const child = execFile(PLUGIN, [], { env: { PATH: process.env.PATH ?? '', ...env } }, (err, stdout) => resolve({ code: err ? Number(err.code) : 0, stdout }));
      child.stdin?.end(stdin);
    });

  it('prints what the plugin prints and exits with its code, for success and for errors', async () => {
    const cniEnv = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_NETNS: '/nonexistent/netns', CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin' };
    // ipMasq is refused while the config is read, before the plugin touches any link: this test
    // runs in the host's namespace, where an ADD that got further would create cni0.
    const config = '{"cniVersion":"1.0.0","name":"cbr0","type":"kemu-cni","bridge":"cni0","ipMasq":true,"ipam":{"type":"host-local","ranges":[[{"subnet":"10.244.7.0/24"}]],"dataDir":"/nonexistent/ipam"}}';
    const direct = await runPlugin(cniEnv, config);
    const viaHelper = await exec({ ...cniEnv, KEMU_CNI_HELPER: helper.address }, config);
    expect(direct.exitCode).toBe(1);
    expect(JSON.parse(direct.stdout)).toMatchObject({ code: 2 });
    expect(viaHelper).toEqual({ code: direct.exitCode, stdout: direct.stdout });

    const version = await exec({ CNI_COMMAND: 'VERSION', KEMU_CNI_HELPER: helper.address }, '');
    expect(version.code).toBe(0);
    expect(JSON.parse(version.stdout)).toMatchObject({ cniVersion: '1.0.0' });
  });

  it('runs the plugin itself when nothing listens at the helper address', async () => {
    const { code, stdout } = await exec({ CNI_COMMAND: 'VERSION', KEMU_CNI_HELPER: '127.0.0.1:1' }, '');
    // nothing listens on port 1: the script runs the plugin itself
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toHaveProperty('supportedVersions');
  });
});
