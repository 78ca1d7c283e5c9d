// The runtime driver against a stand-in plugin (a shell script that records what it was given).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CniRuntime, loadNetworkConfig, pluginRequest } from '../../src/cni/runtime.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kemu-cnirt-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function write(file: string, content: unknown) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
}

/** A plugin that logs "<type> <command> <stdin>" and answers ADD with its prevResult plus a marker. */
function fakePlugin(type: string, failOn?: string) {
  const script = `#!/bin/sh
in=$(cat)
echo "${type} $CNI_COMMAND $CNI_CONTAINERID $CNI_IFNAME $in" >> "${dir}/calls.log"
if [ "$CNI_COMMAND" = "${failOn ?? 'never'}" ]; then echo '{"code":11,"msg":"try later"}'; exit 1; fi
if [ "$CNI_COMMAND" = ADD ]; then echo '{"cniVersion":"1.0.0","interfaces":[{"name":"${type}"}],"dns":{}}'; fi
`;
  write(path.join(dir, 'bin', type), script);
  fs.chmodSync(path.join(dir, 'bin', type), 0o755);
}

const calls = () =>
  fs
    .readFileSync(path.join(dir, 'calls.log'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => {
      const [type, cmd, cid, ifname, ...json] = l.split(' ');
      return { type, cmd, cid, ifname, stdin: JSON.parse(json.join(' ')) as Record<string, unknown> };
    });

describe('network config selection', () => {
  it('takes the lexicographically first .conf/.conflist/.json file', () => {
    write(path.join(dir, 'net.d', '87-podman.conflist'), { cniVersion: '1.0.0', name: 'podman', plugins: [{ type: 'bridge' }] });
    write(path.join(dir, 'net.d', '10-flannel.conflist'), { cniVersion: '0.3.1', name: 'cbr0', plugins: [{ type: 'flannel' }, { type: 'portmap' }] });
    write(path.join(dir, 'net.d', '05-notes.txt'), 'ignored');
    const list = loadNetworkConfig(path.join(dir, 'net.d'));
    expect(list.name).toBe('cbr0');
    expect(list.plugins.map((p) => p.type)).toEqual(['flannel', 'portmap']);
  });

  it('turns a single .conf into a list of one', () => {
    write(path.join(dir, 'net.d', '99-loopback.conf'), { cniVersion: '1.0.0', name: 'lo', type: 'loopback' });
    expect(loadNetworkConfig(path.join(dir, 'net.d')).plugins).toEqual([{ cniVersion: '1.0.0', name: 'lo', type: 'loopback' }]);
  });

  it('injects name, cniVersion, runtimeConfig for declared capabilities, prevResult; drops capabilities', () => {
    const list = { cniVersion: '1.0.0', name: 'cbr0', plugins: [], file: '', source: '' };
    const req = pluginRequest(list, { type: 'portmap', capabilities: { portMappings: true }, snat: true }, { cniVersion: '1.0.0' }, {
      portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }],
      bandwidth: {},
    });
    expect(req).toEqual({
      type: 'portmap',
      snat: true,
      cniVersion: '1.0.0',
      name: 'cbr0',
      runtimeConfig: { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }] },
      prevResult: { cniVersion: '1.0.0' },
    });
  });
});

describe('CniRuntime', () => {
  const att = { containerID: 'ctr1', netns: '/run/netns/none', ifname: 'eth0' };
  const runtime = () => {
    write(path.join(dir, 'net.d', '10-test.conflist'), { cniVersion: '1.0.0', name: 'net1', plugins: [{ type: 'first' }, { type: 'second' }] });
    return new CniRuntime(loadNetworkConfig(path.join(dir, 'net.d')), { binDirs: [path.join(dir, 'nothere'), path.join(dir, 'bin')], cacheDir: path.join(dir, 'cache') });
  };

  it('chains ADD, caches the result, CHECKs in order and DELs in reverse with the cached result', async () => {
    fakePlugin('first');
    fakePlugin('second');
    const rt = runtime();
    const result = await rt.add(att);
    expect(result).toEqual({ cniVersion: '1.0.0', interfaces: [{ name: 'second' }], dns: {} });
    const cache = JSON.parse(fs.readFileSync(path.join(dir, 'cache', 'results', 'net1-ctr1-eth0'), 'utf8')) as { result: unknown };
    expect(cache.result).toEqual(result);
    await rt.check(att);
    await rt.del(att);
    expect(calls().map((c) => `${c.type} ${c.cmd}`)).toEqual(['first ADD', 'second ADD', 'first CHECK', 'second CHECK', 'second DEL', 'first DEL']);
    expect(calls()[1]?.stdin.prevResult).toEqual({ cniVersion: '1.0.0', interfaces: [{ name: 'first' }], dns: {} });
    expect(calls()[4]?.stdin.prevResult).toEqual(result);
    expect(fs.existsSync(path.join(dir, 'cache', 'results', 'net1-ctr1-eth0'))).toBe(false);
  });

  it('reports a plugin error with its code and cleans up with DEL', async () => {
    fakePlugin('first');
    fakePlugin('second', 'ADD');
    const err = await runtime().add(att).catch((e: unknown) => e);
    expect(err).toMatchObject({ plugin: 'second', code: 11, msg: 'try later' });
    expect(calls().map((c) => `${c.type} ${c.cmd}`)).toEqual(['first ADD', 'second ADD', 'second DEL', 'first DEL']);
  });

  it('gives DEL the capability arguments cached with ADD when the caller has none', async () => {
    fakePlugin('first');
    fakePlugin('portmap');
    write(path.join(dir, 'net.d', '10-test.conflist'), {
      cniVersion: '1.0.0',
      name: 'net1',
      plugins: [{ type: 'first' }, { type: 'portmap', capabilities: { portMappings: true } }],
    });
    const rt = new CniRuntime(loadNetworkConfig(path.join(dir, 'net.d')), { binDirs: [path.join(dir, 'bin')], cacheDir: path.join(dir, 'cache') });
    const portMappings = [{ hostPort: 8081, containerPort: 8080, protocol: 'tcp' }];
    await rt.add({ ...att, capabilityArgs: { portMappings } });
    await rt.del(att);
    const byCall = Object.fromEntries(calls().map((c) => [`${c.type} ${c.cmd}`, c.stdin.runtimeConfig]));
    expect(byCall).toEqual({
      'first ADD': undefined,
      'portmap ADD': { portMappings },
      'portmap DEL': { portMappings },
      'first DEL': undefined,
    });
    // DEL again (nothing cached any more) still calls every plugin, without mappings
    await rt.del(att);
    expect(calls().slice(4).map((c) => `${c.type} ${c.cmd} ${JSON.stringify(c.stdin.runtimeConfig)}`)).toEqual(['portmap DEL undefined', 'first DEL undefined']);
  });

  it('names a plugin missing from CNI_PATH', async () => {
    await expect(runtime().add(att)).rejects.toThrow('failed to find plugin "first"');
  });
});
