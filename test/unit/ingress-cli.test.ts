// The controller program's Traefik-style flags.
import { describe, expect, it } from 'vitest';
import { parseIngressFlags } from '../../src/ingress/cli.js';

describe('ingress flags', () => {
  it('reads entrypoint addresses, publish addresses, timeouts and the compat switch', () => {
    const f = parseIngressFlags(
      ['--entrypoints.web.address=:8000', '--entrypoints.websecure.address=:8443', '--entrypoints.traefik.address=127.0.0.1:9000', '--providers.kubernetesingress.ingressendpoint.ip=172.30.1.2', '--entrypoints.web.transport.respondingtimeouts.readtimeout=30s', '--compat=traefik', '--accesslog', '--api.insecure'],
      { KEMU_API_SOCKET: '/run/api.sock' },
    );
    expect(f).toEqual({ web: 8000, websecure: 8443, api: 9000, address: '127.0.0.1', compat: 'traefik', accessLog: true, publish: ['172.30.1.2'], readTimeoutMs: 30_000, apiSocket: '/run/api.sock' });
  });

  it('defaults to Traefik ports 80/443/8080 and spec semantics', () => {
    expect(parseIngressFlags([], {})).toMatchObject({ web: 80, websecure: 443, api: 8080, compat: 'spec', accessLog: false, apiSocket: '' });
  });

  it('refuses unknown flags and bad values, naming them', () => {
    expect(() => parseIngressFlags(['--entrypoints.web.address=80'], {})).toThrow(/--entrypoints.web.address=80: invalid address "80"/);
    expect(() => parseIngressFlags(['--compat=nginx'], {})).toThrow(/--compat: want traefik or spec/);
    expect(() => parseIngressFlags(['--log.level=DEBUG'], {})).toThrow(/unknown flag --log.level/);
  });
});
