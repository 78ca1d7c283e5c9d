import { describe, expect, it } from 'vitest';
import { containerArgv, inPodArgv } from '../../src/node/containers.js';

const pod = { utsFile: '/var/lib/kemu/c/nodes/n/pods/u1/uts', netns: 'c-0a1b2c3d' };
const runner = ['/usr/bin/node', '/repo/dist/workloads/main.js'];

describe('container argv', () => {
  it('runs a command inside the Pod with its /etc files (ip netns exec) and its hostname (nsenter --uts)', () => {
    expect(containerArgv(pod, { kind: 'exec', command: 'sleep', args: ['3600'] }, runner)).toEqual([
      'nsenter', '--uts=/var/lib/kemu/c/nodes/n/pods/u1/uts', 'ip', 'netns', 'exec', 'c-0a1b2c3d', 'sleep', '3600',
    ]);
  });

  it('runs a built-in program with the runner, the same way', () => {
    expect(containerArgv(pod, { kind: 'builtin', program: 'whoami', args: ['--port', '80'] }, runner)).toEqual(
      inPodArgv(pod, ['/usr/bin/node', '/repo/dist/workloads/main.js', 'whoami', '--port', '80']),
    );
  });

  it('starts pause in the Pod\'s UTS and network namespaces only, with no mount namespace', () => {
    const argv = containerArgv(pod, { kind: 'builtin', program: 'pause', args: [] }, runner);
    expect(argv.slice(0, 4)).toEqual(['nsenter', '--uts=/var/lib/kemu/c/nodes/n/pods/u1/uts', '--net=/run/netns/c-0a1b2c3d', '--']);
    expect(argv).not.toContain('ip');
    expect(argv).not.toContain('/usr/bin/node');
    // a shell that exits 0 on SIGTERM, as the pause binary does
    expect(argv[4]).toBe('sh');
    expect(argv.at(-1)).toContain('trap "exit 0" TERM');
  });
});
