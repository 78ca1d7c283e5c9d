import { describe, expect, it } from 'vitest';
import { FlagError, parseFlags } from '../../src/workloads/flags.js';
import { parseGoDuration } from '../../src/workloads/go-duration.js';
import { canonicalHeaderKey, goJson, sniffContentType } from '../../src/workloads/go-http.js';
import { goTimeString } from '../../src/workloads/go-time.js';
import { contentSlice } from '../../src/workloads/whoami-content.js';
import { udpReply } from '../../src/workloads/agnhost/netexec.js';

describe('flags', () => {
  const spec = { port: { kind: 'int', default: 80 }, name: { kind: 'string', default: '' }, udp: { kind: 'bool', default: false } } as const;

  it('reads --k=v, --k v, -k=v and bare bools', () => {
    expect(parseFlags(['--port=8080', '--name', 'x', '--udp'], spec)).toEqual({ port: 8080, name: 'x', udp: true });
    expect(parseFlags(['-port=1', '--udp=false'], spec)).toEqual({ port: 1, name: '', udp: false });
  });

  it('fails with pflag wording', () => {
    expect(() => parseFlags(['--nope'], spec)).toThrow(new FlagError('unknown flag: --nope'));
    expect(() => parseFlags(['--port=x'], spec)).toThrow('invalid argument "x" for "--port" flag: strconv.ParseInt: parsing "x": invalid syntax');
    expect(() => parseFlags(['--name'], spec)).toThrow('flag needs an argument: --name');
    expect(() => parseFlags(['extra'], spec)).toThrow('accepts at most 0 arg(s), received 1');
  });
});

describe('Go look-alikes', () => {
  it('parses Go durations', () => {
    expect(parseGoDuration('1.5s')).toBe(1500);
    expect(parseGoDuration('1h2m')).toBe(3_720_000);
    expect(parseGoDuration('0')).toBe(0);
    expect(parseGoDuration('5')).toBeUndefined();
    expect(parseGoDuration('')).toBeUndefined();
  });

  it('canonicalizes header keys as textproto does', () => {
    expect(canonicalHeaderKey('x-forwarded-for')).toBe('X-Forwarded-For');
    expect(canonicalHeaderKey('USER-AGENT')).toBe('User-Agent');
    expect(canonicalHeaderKey('bad key')).toBe('bad key');
  });

  it('escapes HTML characters in JSON like encoding/json', () => {
    expect(goJson({ a: '<&>' })).toBe('{"a":"\\u003c\\u0026\\u003e"}');
  });

  it('sniffs content types like http.DetectContentType', () => {
    expect(sniffContentType(Buffer.from('hello'))).toBe('text/plain; charset=utf-8');
    expect(sniffContentType(Buffer.from('  <html><body>'))).toBe('text/html; charset=utf-8');
    expect(sniffContentType(Buffer.from([0, 1, 2]))).toBe('application/octet-stream');
  });

  it('prints time.Time as %v does', () => {
    const ns = BigInt(Date.UTC(2024, 4, 6, 7, 8, 9)) * 1_000_000n + 120_000n;
    const text = goTimeString(ns, 1.5);
    if (new Date(0).getTimezoneOffset() === 0) expect(text).toBe('2024-05-06 07:08:09.00012 +0000 UTC m=+1.500000000');
    expect(text).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:09\.00012 [+-]\d{4} \S+ m=\+1\.500000000$/);
  });
});

describe('whoami /data content', () => {
  it('frames the charset cycle with pipes, and is seamless across blocks', () => {
    expect(contentSlice(5, 0, 5).toString()).toBe('|ABC|');
    const whole = contentSlice(100, 0, 100).toString();
    expect(contentSlice(100, 0, 40).toString() + contentSlice(100, 40, 100).toString()).toBe(whole);
    expect(whole[27]).toBe('-');
  });
});

describe('netexec UDP commands', () => {
  it('answers hostname, echo (lower-cased, as upstream) and clientip; ignores the rest', () => {
    expect(udpReply('echo Hello\n', '1.2.3.4:5')).toBe('hello');
    expect(udpReply('CLIENTIP', '1.2.3.4:5')).toBe('1.2.3.4:5');
    expect(udpReply('hostname', '')).toMatch(/\S/);
    expect(udpReply('what', '')).toBeUndefined();
  });
});
