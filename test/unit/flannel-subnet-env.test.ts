import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseSubnetEnv, subnetEnvPath, subnetEnvText, writeSubnetEnv } from '../../src/cni/flannel/subnet-env.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('subnet.env', () => {
  it('has flannel lines in flannel order, the subnet as its first host', () => {
    const text = subnetEnvText({ network: '10.244.0.0/16', subnet: '10.244.1.0/24', mtu: 1450, ipMasq: true });
    expect(text).toBe('FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n');
    expect(parseSubnetEnv(text)).toEqual({
      FLANNEL_NETWORK: '10.244.0.0/16',
      FLANNEL_SUBNET: '10.244.1.1/24',
      FLANNEL_MTU: '1450',
      FLANNEL_IPMASQ: 'true',
    });
  });

  it('lives under the node run dir, written 0644 and only when it changes', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kemu-senv-'));
    dirs.push(dir);
    const file = subnetEnvPath(dir, 'c-worker');
    expect(file).toBe(path.join(dir, 'nodes', 'c-worker', 'run', 'flannel', 'subnet.env'));
    expect(writeSubnetEnv(file, 'A=1\n')).toBe(true);
    expect(writeSubnetEnv(file, 'A=1\n')).toBe(false);
    expect(fs.statSync(file).mode & 0o777).toBe(0o644);
    expect(writeSubnetEnv(file, 'A=2\n')).toBe(true);
    expect(fs.readFileSync(file, 'utf8')).toBe('A=2\n');
  });
});
