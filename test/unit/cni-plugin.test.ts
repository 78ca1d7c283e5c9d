// The plugin's pure edges: environment, config, result/error JSON, and the iproute2 batches it plans.
import { describe, expect, it } from 'vitest';
import { parseBridgeConfig, parseEnv, parseNetworkConfig } from '../../src/cni/plugin/config.js';
import { bridgeAddressLines, nodeAddLines, podAddLines, podAddressing } from '../../src/cni/plugin/bridge.js';
import { runPlugin } from '../../src/cni/plugin/plugin.js';
import { renderResult } from '../../src/cni/plugin/result.js';
import { batchText, parseBatchFailures, parseJsonLines } from '../../src/sys/iproute.js';

const flannelDelegate = {
  cniVersion: '1.0.0',
  name: 'cbr0',
  type: 'kemu-cni',
  hairpinMode: true,
  isDefaultGateway: true,
  mtu: 1450,
  ipam: { type: 'host-local', ranges: [[{ subnet: '10.244.1.0/24' }]], routes: [{ dst: '10.244.0.0/16' }], dataDir: '/tmp/x' },
};
const env = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_NETNS: '/run/netns/p', CNI_IFNAME: 'eth0' };

async function pluginError(e: Record<string, string>, stdin: string) {
  const out = await runPlugin(e, stdin);
  expect(out.exitCode).toBe(1);
  return JSON.parse(out.stdout) as { code: number; msg: string; details?: string };
}

describe('environment and config', () => {
  it('names the missing variables like the skel does', () => {
    expect(() => parseEnv({ CNI_COMMAND: 'ADD' })).toThrow('required env variables [CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME] missing');
    expect(() => parseEnv({ CNI_COMMAND: 'FOO' })).toThrow('unknown CNI_COMMAND: FOO');
    expect(() => parseEnv({ ...env, CNI_IFNAME: 'a-very-long-ifname' })).toThrow('is too long');
    expect(parseEnv({ CNI_COMMAND: 'DEL', CNI_CONTAINERID: 'c1', CNI_IFNAME: 'eth0' }).netns).toBe('');
    expect(parseEnv({ ...env, CNI_ARGS: 'IgnoreUnknown=1;IP=10.0.0.5' }).args.get('IP')).toBe('10.0.0.5');
  });

  it('applies the bridge defaults: cni0, isDefaultGateway implies isGateway', () => {
    const conf = parseBridgeConfig(parseNetworkConfig(JSON.stringify(flannelDelegate)));
    expect(conf).toMatchObject({ bridge: 'cni0', isGateway: true, isDefaultGateway: true, hairpinMode: true, mtu: 1450, forceAddress: false });
    expect(conf.ipam?.rangeSets).toHaveLength(1);
    expect(parseBridgeConfig({ ...flannelDelegate, ipam: {} }).ipam).toBeUndefined();
  });

  it('answers errors with the reference codes', async () => {
    expect(await pluginError(env, '{"cniVersion":')).toMatchObject({ code: 6 });
    expect(await pluginError(env, JSON.stringify({ ...flannelDelegate, cniVersion: '1.1.0' }))).toEqual({
      cniVersion: '1.0.0',
      code: 1,
      msg: 'incompatible CNI versions',
      details: 'config is "1.1.0", plugin supports ["0.3.0" "0.3.1" "0.4.0" "1.0.0"]',
    });
    expect(await pluginError(env, JSON.stringify({ ...flannelDelegate, promiscMode: true }))).toMatchObject({
      code: 999,
      msg: 'cannot set hairpin mode and promiscuous mode at the same time.',
    });
    expect(await pluginError(env, JSON.stringify({ ...flannelDelegate, ipMasq: true }))).toMatchObject({ code: 2 });
    expect(await pluginError({ ...env, CNI_COMMAND: 'CHECK' }, JSON.stringify(flannelDelegate))).toMatchObject({
      code: 999,
      msg: 'Required prevResult missing',
    });
  });

  it('answers VERSION', async () => {
    const out = await runPlugin({ CNI_COMMAND: 'VERSION' }, '{"cniVersion":"1.0.0"}');
    expect(out.exitCode).toBe(0);
    expect(JSON.parse(out.stdout)).toEqual({ cniVersion: '1.0.0', supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0'] });
  });
});

describe('result JSON', () => {
  const ipam = { cniVersion: '1.0.0', ips: [{ address: '10.244.1.2/24', gateway: '10.244.1.1' }], routes: [{ dst: '10.244.0.0/16' }], dns: {} };

  it('adds the default route after the IPAM routes and points IPs at the container interface', () => {
    const conf = parseBridgeConfig(flannelDelegate);
    expect(podAddressing(conf, ipam)).toEqual({
      ips: [{ interface: 2, address: '10.244.1.2/24', gateway: '10.244.1.1' }],
      routes: [{ dst: '10.244.0.0/16' }, { dst: '0.0.0.0/0', gw: '10.244.1.1' }],
    });
    expect(podAddressing({ ...conf, isDefaultGateway: false }, ipam).routes).toEqual([{ dst: '10.244.0.0/16' }]);
  });

  it('prints 1.0.0 without and 0.3.1 with the per-IP version, keys in the reference order', () => {
    const result = { ...ipam, interfaces: [{ name: 'eth0', mac: 'aa:bb:cc:dd:ee:ff', sandbox: '/run/netns/p' }], ips: [{ interface: 0, address: '10.244.1.2/24', gateway: '10.244.1.1' }] };
    expect(JSON.stringify(renderResult(result, '1.0.0'))).toBe(
      '{"cniVersion":"1.0.0","interfaces":[{"name":"eth0","mac":"aa:bb:cc:dd:ee:ff","sandbox":"/run/netns/p"}],' +
        '"ips":[{"interface":0,"address":"10.244.1.2/24","gateway":"10.244.1.1"}],"routes":[{"dst":"10.244.0.0/16"}],"dns":{}}',
    );
    expect(renderResult(result, '0.3.1').ips).toEqual([{ version: '4', interface: 0, address: '10.244.1.2/24', gateway: '10.244.1.1' }]);
  });
});

describe('iproute2 batches', () => {
  const conf = parseBridgeConfig(flannelDelegate);

  it('node batch: bridge, veth with its peer in the Pod netns, port with hairpin, gateway, then the two shows', () => {
    const lines = nodeAddLines({ conf, bridgeExists: false, hostVeth: 'veth0a1b2c3d', podNetns: '/run/netns/p', ifname: 'eth0', addressLines: bridgeAddressLines(conf, [], ['10.244.1.1/24']) });
    expect(batchText(lines)).toBe(
      [
        'link add name cni0 mtu 1450 type bridge',
        'link set cni0 up',
        'link add veth0a1b2c3d mtu 1450 type veth peer name eth0 mtu 1450 netns /run/netns/p',
        'link set veth0a1b2c3d master cni0 up',
        'link set veth0a1b2c3d type bridge_slave hairpin on',
        'addr add 10.244.1.1/24 brd + dev cni0',
        'link show dev cni0',
        'link show dev veth0a1b2c3d',
        '',
      ].join('\n'),
    );
    expect(lines[0]?.tolerate).toBe('exists');
  });

  it('bridge address: kept when present, refused when different, replaced with forceAddress', () => {
    const have = [{ family: 'inet' as const, local: '10.9.9.1', prefixlen: 24 }];
    expect(bridgeAddressLines(conf, [{ family: 'inet', local: '10.244.1.1', prefixlen: 24 }], ['10.244.1.1/24'])).toEqual([]);
    expect(() => bridgeAddressLines(conf, have, ['10.244.1.1/24'])).toThrow('"cni0" already has an IP address different from 10.244.1.1/24');
    expect(bridgeAddressLines({ ...conf, forceAddress: true }, have, ['10.244.1.1/24']).map((l) => l.args.join(' '))).toEqual([
      'addr del 10.9.9.1/24 dev cni0',
      'addr add 10.244.1.1/24 brd + dev cni0',
    ]);
  });

  it('pod batch: lo up, address, link up, routes via the gateway', () => {
    const lines = podAddLines('eth0', [{ interface: 2, address: '10.244.1.2/24', gateway: '10.244.1.1' }], [{ dst: '10.244.0.0/16' }, { dst: '0.0.0.0/0', gw: '10.244.1.1' }]);
    expect(lines.map((l) => l.args.join(' '))).toEqual([
      'link set lo up',
      'addr add 10.244.1.2/24 brd + dev eth0',
      'link set eth0 up',
      'route add 10.244.0.0/16 via 10.244.1.1 dev eth0',
      'route add 0.0.0.0/0 via 10.244.1.1 dev eth0',
      'link show dev eth0',
    ]);
  });

  it('refuses words the batch parser would split', () => {
    expect(() => batchText([{ args: ['link', 'set', 'a b', 'up'] }])).toThrow('invalid word');
  });

  it('maps -force failures to their lines and reads one JSON array per show', () => {
    const failures = parseBatchFailures('RTNETLINK answers: File exists\nCommand failed -:1\nCannot find device "x"\nCommand failed -:4\n');
    expect([...failures]).toEqual([
      [1, 'RTNETLINK answers: File exists'],
      [4, 'Cannot find device "x"'],
    ]);
    expect(parseJsonLines('[{"ifname":"a"}]\n[]\n')).toEqual([[{ ifname: 'a' }], []]);
  });
});
