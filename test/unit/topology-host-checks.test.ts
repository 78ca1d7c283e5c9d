import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hostProblem, missingTools, missingToolsMessage, requiredTools, vxlanProbeMessage } from '../../src/cni/topology/host-checks.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** A PATH directory holding these names, executable or not. */
function pathDir(files: Record<string, number>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kemu-tools-'));
  dirs.push(dir);
  for (const [name, mode] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), '#!/bin/sh\n', { mode });
  return dir;
}

describe('host checks: tools', () => {
  it('asks for nft only in nftables mode', () => {
    expect(requiredTools({ proxyMode: 'iptables' }).map((t) => t.program)).not.toContain('nft');
    expect(requiredTools({ proxyMode: 'nftables' }).find((t) => t.program === 'nft')?.debianPackage).toBe('nftables');
  });

  it('finds tools in any PATH directory, and only executable files count', () => {
    const tools = [
      { program: 'ip', debianPackage: 'iproute2' },
      { program: 'nsenter', debianPackage: 'util-linux' },
      { program: 'sysctl', debianPackage: 'procps' },
    ];
    const a = pathDir({ ip: 0o755, sysctl: 0o644 });
    const b = pathDir({ nsenter: 0o755 });
    expect(missingTools(tools, `${a}:${b}`).map((t) => t.program)).toEqual(['sysctl']);
    expect(missingTools(tools, '').map((t) => t.program)).toEqual(['ip', 'nsenter', 'sysctl']);
  });

  it('names each missing program with its package and one apt-get line without repeats', () => {
    const message = missingToolsMessage([
      { program: 'ip', debianPackage: 'iproute2' },
      { program: 'bridge', debianPackage: 'iproute2' },
      { program: 'nft', debianPackage: 'nftables' },
    ]);
    expect(message).toContain('ip (Debian package iproute2), bridge (Debian package iproute2), nft (Debian package nftables)');
    expect(message.endsWith('apt-get install iproute2 nftables')).toBe(true);
  });
});

describe('host checks: reference CNI plugins', () => {
  it('names portmap, the directory searched and its Debian package when the plugin is missing', async () => {
    const bin = pathDir(Object.fromEntries(requiredTools({ proxyMode: 'iptables' }).map((t) => [t.program, 0o755])));
    const empty = pathDir({});
    const problem = await hostProblem({ proxyMode: 'iptables', backend: 'host-gw' }, bin, empty);
    expect(problem).toBe(`kemu up needs the CNI plugins portmap in ${empty}; install them with: apt-get install containernetworking-plugins`);
    expect(await hostProblem({ proxyMode: 'iptables', backend: 'host-gw' }, bin, pathDir({ portmap: 0o755 }))).toBeUndefined();
  });
});

describe('host checks: vxlan', () => {
  it('says what the kernel refused, which module to load and which backend works instead', () => {
    const m = vxlanProbeMessage('Error: Unknown device type.\n');
    expect(m).toContain('(ip link add type vxlan: Error: Unknown device type.)');
    expect(m).toContain('modprobe vxlan');
    expect(m).toContain('--backend host-gw');
  });
});
