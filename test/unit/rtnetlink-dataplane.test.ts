import { describe, expect, it } from 'vitest';
import { flannelPart, type KernelView } from '../../src/cni/flannel/dataplane.js';
import { toleratedRefusal } from '../../src/cni/flannel/diff.js';
import { RtnetlinkError } from '../../src/sys/rtnetlink.js';

describe('flannelPart: what flannel owns out of the kernel view', () => {
  const view: KernelView = {
    neighbours: [
      { dev: 'flannel.1', ip: '10.244.1.0', mac: '0a:00:00:00:00:01', permanent: true },
      { dev: 'flannel.1', ip: '10.244.2.0', mac: '0a:00:00:00:00:02', permanent: false },
      { dev: 'flannel.1', ip: '10.244.3.0', permanent: true },
      { dev: 'eth0', ip: '172.30.1.3', mac: '02:00:00:00:00:03', permanent: true },
    ],
    fdb: [
      { dev: 'flannel.1', mac: '0a:00:00:00:00:01', dst: '172.30.1.3', self: true, permanent: true },
      { dev: 'flannel.1', mac: '0a:00:00:00:00:02', self: true, permanent: true },
      { dev: 'flannel.1', mac: '0a:00:00:00:00:03', dst: '172.30.1.5', self: false, permanent: true },
      { dev: 'flannel.1', mac: '0a:00:00:00:00:04', dst: '172.30.1.6', self: true, permanent: false },
    ],
    routes: [
      { dst: '0.0.0.0/0', gateway: '172.30.1.1', dev: 'eth0', onlink: false },
      { dst: '10.244.1.0/24', gateway: '10.244.1.0', dev: 'flannel.1', onlink: true },
      { dst: '10.244.0.0/24', dev: 'cni0', onlink: false },
      { dst: '10.244.9.0/24', onlink: false },
    ],
  };

  it('keeps permanent neighbours with a MAC on flannel.1, `self` permanent FDB entries with a dst, routes with a device', () => {
    expect(flannelPart(view)).toEqual({
      device: undefined,
      neighbours: [{ ip: '10.244.1.0', mac: '0a:00:00:00:00:01' }],
      fdb: [{ mac: '0a:00:00:00:00:01', dst: '172.30.1.3' }],
      routes: [
        { dst: '10.244.1.0/24', gateway: '10.244.1.0', dev: 'flannel.1', onlink: true },
        { dst: '10.244.0.0/24', gateway: '', dev: 'cni0', onlink: false },
      ],
    });
  });
});

describe('RtnetlinkError', () => {
  it('names the operation and the errno with its text', () => {
    const e = new RtnetlinkError('route replace 10.244.5.0/24 via 192.0.2.1 dev eth0', 'ENETUNREACH');
    expect(e.message).toMatch(/^rtnetlink route replace 10\.244\.5\.0\/24 via 192\.0\.2\.1 dev eth0: .*unreachable.* \(ENETUNREACH\)$/i);
  });

  it('keeps a message that is no errno as it is', () => {
    expect(new RtnetlinkError('link show', 'Timeout has been reached').message).toBe('rtnetlink link show: Timeout has been reached');
  });

  it('tells "already there" and "not there" refusals from real failures', () => {
    expect(new RtnetlinkError('addr add 10.244.0.0/32 dev flannel.1', 'EEXIST').refusedAs()).toBe('exists');
    for (const code of ['ENODEV', 'ESRCH', 'ENOENT', 'EADDRNOTAVAIL']) expect(new RtnetlinkError('x', code).refusedAs()).toBe('missing');
    expect(new RtnetlinkError('x', 'EPERM').refusedAs()).toBeUndefined();
  });
});

describe('toleratedRefusal', () => {
  it('creates tolerate "exists", deletes "missing", replaces and link settings nothing', () => {
    const route = { dst: '10.244.1.0/24', gateway: '10.244.1.0', dev: 'flannel.1', onlink: true };
    expect(toleratedRefusal({ op: 'addr-add', dev: 'flannel.1', address: '10.244.0.0/32' })).toBe('exists');
    expect(toleratedRefusal({ op: 'route-del', route })).toBe('missing');
    expect(toleratedRefusal({ op: 'fdb-del', dev: 'flannel.1', entry: { mac: '0a:00:00:00:00:01', dst: '172.30.1.3' } })).toBe('missing');
    expect(toleratedRefusal({ op: 'route-replace', route })).toBeUndefined();
    expect(toleratedRefusal({ op: 'link-mtu', name: 'flannel.1', mtu: 1450 })).toBeUndefined();
  });
});
