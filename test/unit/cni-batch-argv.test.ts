import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { batchArgv, sysctlScript } from '../../src/sys/iproute.js';
import { netnsName } from '../../src/sys/netns.js';

const FLAGS = ['-j', '-force', '-batch', '-'];

const sh = (script: string, args: string[]) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile('sh', ['-c', script, ...args], (err, stdout, stderr) => resolve({ code: err ? Number(err.code) : 0, stdout, stderr }));
  });

describe('where a kemu-cni batch runs', () => {
  it('names a namespace only for names and paths right under /run/netns', () => {
    expect(netnsName('kemut-pod1')).toBe('kemut-pod1');
    expect(netnsName('/run/netns/kemut-pod1')).toBe('kemut-pod1');
    expect(netnsName('/proc/42/ns/net')).toBeUndefined();
    expect(netnsName('/run/netns/sub/pod')).toBeUndefined();
  });

  it('lets ip switch to a named namespace itself and needs nsenter only for other paths', () => {
    expect(batchArgv('ip', undefined, FLAGS)).toEqual(['ip', FLAGS]);
    expect(batchArgv('ip', '/run/netns/kemut-pod1', FLAGS)).toEqual(['ip', ['-n', 'kemut-pod1', ...FLAGS]]);
    expect(batchArgv('bridge', 'kemut-pod1', FLAGS)).toEqual(['bridge', ['-n', 'kemut-pod1', ...FLAGS]]);
    expect(batchArgv('ip', '/proc/42/ns/net', FLAGS)).toEqual(['nsenter', ['--net=/proc/42/ns/net', '--', 'ip', ...FLAGS]]);
  });

  it('writes the namespace settings and runs the tool in one nsenter', () => {
    const settings = [{ key: 'net/ipv4/conf/eth0/arp_notify', value: 1, optional: true }];
    const [program, argv] = batchArgv('ip', '/run/netns/kemut-pod1', FLAGS, settings);
    expect(program).toBe('nsenter');
    expect(argv.slice(0, 4)).toEqual(['--net=/run/netns/kemut-pod1', '--', 'sh', '-c']);
    expect(argv[4]).toBe(sysctlScript(settings));
    expect(argv.slice(5)).toEqual(['ip', ...FLAGS]);
  });
});

describe('the settings script', () => {
  it('skips an optional key that does not exist, then execs the tool with its arguments', async () => {
    const script = sysctlScript([{ key: 'net/ipv4/conf/kemut-none0/arp_notify', value: 1, optional: true }]);
    expect(await sh(script, ['printf', '%s|%s', "it's", 'two words'])).toEqual({ code: 0, stdout: "it's|two words", stderr: '' });
  });

  it('stops before the tool when a required key cannot be written, naming the key and value', async () => {
    const script = sysctlScript([{ key: "net/ipv4/conf/kemut-n'one0/arp_notify", value: 1 }]);
    const { code, stdout, stderr } = await sh(script, ['echo', 'tool ran']);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain("cannot set net/ipv4/conf/kemut-n'one0/arp_notify=1");
  });
});
