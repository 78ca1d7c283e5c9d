import { describe, expect, it } from 'vitest';
import { CorefileError, parseCorefile } from '../../src/dns/corefile/parse.js';
import { parseKubernetes } from '../../src/dns/plugins/kubernetes/setup.js';
import { setupPlugins } from '../../src/dns/plugins/registry.js';
import { Metrics } from '../../src/dns/metrics.js';
import type { SetupContext } from '../../src/dns/plugin.js';

const KUBEADM = `.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . 127.0.0.1:5300 {
       max_concurrent 1000
    }
    cache 30 {
       disable success cluster.local
       disable denial cluster.local
    }
    loop
    reload
    loadbalance
}
`;

function errorOf(f: () => unknown): CorefileError {
  try {
    f();
  } catch (e) {
    if (e instanceof CorefileError) return e;
    throw e;
  }
  throw new Error('no error');
}

describe('Corefile parser', () => {
  it('reads server keys, directives, args and nested blocks with their lines', () => {
    const [block, ...rest] = parseCorefile(KUBEADM);
    expect(rest).toHaveLength(0);
    expect(block!.keys).toEqual([{ zone: '.', port: 53 }]);
    expect(block!.directives.map((d) => d.name)).toEqual(['errors', 'health', 'ready', 'kubernetes', 'prometheus', 'forward', 'cache', 'loop', 'reload', 'loadbalance']);
    const k = block!.directives[3]!;
    expect(k.args).toEqual(['cluster.local', 'in-addr.arpa', 'ip6.arpa']);
    expect(k.line).toBe(7);
    expect(k.block.map((o) => [o.name, o.args, o.line])).toEqual([
      ['pods', ['insecure'], 8],
      ['fallthrough', ['in-addr.arpa', 'ip6.arpa'], 9],
      ['ttl', ['30'], 10],
    ]);
  });

  it('reads several blocks, zone:port keys, comments and quoted args', () => {
    const blocks = parseCorefile('# head\nexample.org:1053 Other.Zone. {\n  whoami "a b" # trailing\n}\n.:53 {\n forward . 1.1.1.1\n}\n');
    expect(blocks.map((b) => b.keys)).toEqual([
      [{ zone: 'example.org.', port: 1053 }, { zone: 'other.zone.', port: 53 }],
      [{ zone: '.', port: 53 }],
    ]);
    expect(blocks[0]!.directives[0]!.args).toEqual(['a b']);
  });

  it('names the line of a missing or stray brace', () => {
    expect(errorOf(() => parseCorefile('.:53 {\n  errors\n  cache 30 {\n    success 10\n')).message).toBe("Corefile:3 - Error during parsing: unexpected end of file: missing '}'");
    expect(errorOf(() => parseCorefile('.:53 {\n errors\n}\n}\n')).line).toBe(4);
  });

  it('rejects unknown directives and bad plugin options with the line', () => {
    const ctx = { zones: ['.'], log: { info: () => undefined, error: () => undefined }, lookup: async () => { throw new Error('unused'); }, plugin: () => undefined, env: { localIPs: [], metrics: new Metrics(), fatal: () => undefined } } satisfies SetupContext;
    const [b] = parseCorefile('.:53 {\n  errors\n  bogus 1\n}\n');
    expect(errorOf(() => setupPlugins(b!.directives, ctx, () => [])).message).toBe("Corefile:3 - Error during parsing: Unknown directive 'bogus'");
    const [k] = parseCorefile('.:53 {\n  kubernetes cluster.local {\n    pods sometimes\n  }\n}\n');
    const e = errorOf(() => parseKubernetes(k!.directives[0]!, ['.'], []));
    expect(e.line).toBe(3);
    expect(e.message).toContain('must be one of: disabled, verified, insecure');
    const [t] = parseCorefile('.:53 {\n  kubernetes {\n    ttl 9999\n  }\n}\n');
    expect(errorOf(() => parseKubernetes(t!.directives[0]!, ['cluster.local.'], [])).message).toContain('ttl must be in range [0, 3600]');
  });

  it('turns kubernetes zone CIDRs into reverse zones and defaults to the server zones', () => {
    const [b] = parseCorefile('cluster.local:53 {\n kubernetes cluster.local 10.96.0.0/24 1234:abcd::0/64 {\n  fallthrough\n }\n}\n');
    const cfg = parseKubernetes(b!.directives[0]!, ['cluster.local.'], ['10.0.0.1']);
    expect(cfg.zones).toEqual(['cluster.local.', '0.96.10.in-addr.arpa.', '0.0.0.0.0.0.0.0.d.c.b.a.4.3.2.1.ip6.arpa.']);
    expect(cfg.fallthrough).toEqual(['.']);
    const [bare] = parseCorefile('cluster.local {\n kubernetes\n}\n');
    expect(parseKubernetes(bare!.directives[0]!, ['cluster.local.'], []).zones).toEqual(['cluster.local.']);
  });
});
