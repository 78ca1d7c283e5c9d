import os from 'node:os';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeTcpPort, freeUdpPort, request, startWorkload, terminate, udpExchange, type Workload } from './workloads-harness.js';

const hostname = os.hostname();

describe('agnhost netexec', () => {
  let w: Workload;
  let httpPort: number;
  let udpPort: number;

  beforeAll(async () => {
    httpPort = await freeTcpPort();
    udpPort = await freeUdpPort();
    w = await startWorkload(['agnhost', 'netexec', `--http-port=${httpPort}`, '--udp-port', String(udpPort)], /Started HTTP server/);
  });
  afterAll(async () => {
    await terminate(w);
  });

  it('logs its start in Go log format', () => {
    expect(w.stdout()).toMatch(new RegExp(`^\\d{4}/\\d\\d/\\d\\d \\d\\d:\\d\\d:\\d\\d Started UDP server on port  ${udpPort}\\n`, 'm'));
    expect(w.stdout()).toContain(`Started HTTP server on port ${httpPort}`);
  });

  it('answers / with the time as Go prints it', async () => {
    const r = await request(httpPort, '/');
    expect(r.status).toBe(200);
    expect(r.body).toMatch(/^NOW: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? [+-]\d{4} \S+ m=\+\d+\.\d{9}$/);
    expect(r.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(r.headers['keep-alive']).toBeUndefined();
  });

  it('answers unknown paths with the root handler, like Go\'s ServeMux "/" pattern', async () => {
    expect((await request(httpPort, '/no/such/path')).body).toMatch(/^NOW: /);
  });

  it('reports hostname, hostName and the client address', async () => {
    expect((await request(httpPort, '/hostname')).body).toBe(hostname);
    expect((await request(httpPort, '/hostName')).body).toBe(hostname);
    expect((await request(httpPort, '/clientip')).body).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it('echoes msg with an optional status code', async () => {
    const plain = await request(httpPort, '/echo?msg=hello+world');
    expect([plain.status, plain.body]).toEqual([200, 'hello world']);
    const coded = await request(httpPort, '/echo?msg=gone&code=410');
    expect([coded.status, coded.body]).toEqual([410, 'gone']);
    const bad = await request(httpPort, '/echo?msg=x&code=abc');
    expect(bad.body).toBe(`argument 'code' must be an integer or empty, got "abc"\n`);
  });

  it('is healthy once the UDP server is up', async () => {
    expect((await request(httpPort, '/healthz')).status).toBe(200);
  });

  it('returns one request header or all of them', async () => {
    const one = await request(httpPort, '/header?key=x-test', { headers: { 'X-Test': 'abc' } });
    expect(one.body).toBe('abc');
    const all = await request(httpPort, '/header', { headers: { 'x-a': '1' } });
    expect(JSON.parse(all.body)).toMatchObject({ 'X-A': ['1'] });
    expect(JSON.parse(all.body)).not.toHaveProperty('Host');
  });

  it('redirects to location with the given code', async () => {
    const r = await request(httpPort, '/redirect?location=/echo%3Fmsg%3Dfoobar&code=307');
    expect(r.status).toBe(307);
    expect(r.headers.location).toBe('/echo?msg=foobar');
    const dflt = await request(httpPort, '/redirect?location=/x');
    expect(dflt.status).toBe(302);
  });

  it('runs shell commands and reports output and exit status', async () => {
    const ok = await request(httpPort, '/shell?cmd=echo+hi');
    expect(JSON.parse(ok.body)).toEqual({ output: 'hi\n' });
    const failed = await request(httpPort, `/shell?shellCommand=${encodeURIComponent('echo oops >&2; exit 3')}`);
    expect(JSON.parse(failed.body)).toEqual({ error: 'exit status 3', output: 'oops\n' });
  });

  it('answers the UDP commands', async () => {
    expect((await udpExchange(udpPort, 'hostname')).reply).toBe(hostname);
    expect((await udpExchange(udpPort, 'echo Hello There\n')).reply).toBe('hello there');
    const { reply, localPort } = await udpExchange(udpPort, 'clientip');
    expect(reply).toBe(`127.0.0.1:${localPort}`);
  });

  it('dials HTTP and UDP targets from /dial', async () => {
    const viaHttp = await request(httpPort, `/dial?request=hostname&protocol=http&host=127.0.0.1&port=${httpPort}&tries=2`);
    expect(viaHttp.status).toBe(200);
    expect(JSON.parse(viaHttp.body)).toEqual({ responses: [hostname, hostname] });
    const viaUdp = await request(httpPort, `/dial?request=${encodeURIComponent('echo abc')}&protocol=udp&host=127.0.0.1&port=${udpPort}`);
    expect(JSON.parse(viaUdp.body)).toEqual({ responses: ['abc'] });
  });

  it('reports failed dials as errors and bad parameters with 400', async () => {
    const closed = await freeTcpPort();
    const refused = await request(httpPort, `/dial?request=hostname&host=127.0.0.1&port=${closed}`);
    expect(refused.status).toBe(200);
    expect(JSON.parse(refused.body)).toEqual({
      errors: [`Get "http://127.0.0.1:${closed}/hostname": dial tcp 127.0.0.1:${closed}: connect: connection refused`],
    });
    const noRequest = await request(httpPort, `/dial?host=127.0.0.1&port=${httpPort}`);
    expect([noRequest.status, noRequest.body]).toEqual([400, 'request parameter not specified. <nil>\n']);
    const badProto = await request(httpPort, `/dial?request=x&protocol=quic&host=127.0.0.1&port=${httpPort}`);
    expect([badProto.status, badProto.body]).toEqual([400, 'unsupported protocol. quic\n']);
  });

  it('exits 0 on SIGTERM', async () => {
    expect(await terminate(w)).toBe(0);
  });
});

describe('agnhost netexec lifecycle', () => {
  it('/exit?code= ends the process with that code', async () => {
    const port = await freeTcpPort();
    const w = await startWorkload(['agnhost', 'netexec', `--http-port=${port}`, '--udp-port=-1'], /Started HTTP server/);
    // Upstream is never ready without a UDP or SCTP server.
    expect((await request(port, '/healthz')).status).toBe(412);
    await request(port, '/exit?code=7').catch(() => undefined);
    expect(await w.exited).toBe(7);
  });

  it('keeps serving for --delay-shutdown seconds after SIGTERM, then exits 0', async () => {
    const port = await freeTcpPort();
    const w = await startWorkload(['agnhost', 'netexec', `--http-port=${port}`, '--udp-port=-1', '--delay-shutdown=1'], /Started HTTP server/);
    const sent = performance.now();
    w.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    expect((await request(port, '/hostname')).body).toBe(hostname);
    expect(await w.exited).toBe(0);
    expect(performance.now() - sent).toBeGreaterThanOrEqual(900);
  });

  it('refuses unknown flags with pflag wording', async () => {
    await expect(startWorkload(['agnhost', 'netexec', '--bogus=1'], /Started/)).rejects.toThrow(/exited 1.*unknown flag: --bogus/s);
  });
});

describe('agnhost serve-hostname', () => {
  it('serves the hostname over HTTP on --port and exits 0 on SIGTERM', async () => {
    const port = await freeTcpPort();
    const w = await startWorkload(['agnhost', 'serve-hostname', `--port=${port}`], /Serving on port/);
    const r = await request(port, '/anything');
    expect([r.status, r.body]).toEqual([200, hostname]);
    expect(await terminate(w)).toBe(0);
  });

  it('serves raw TCP and UDP with --http=false', async () => {
    const port = await freeTcpPort();
    const w = await startWorkload(['agnhost', 'serve-hostname', '--tcp', '--udp', '--http=false', `--port=${port}`], /Serving on port/);
    const tcpReply = await new Promise<string>((resolve, reject) => {
      let data = '';
      const s = net.connect(port, '127.0.0.1');
      s.on('data', (c) => (data += c.toString()));
      s.on('end', () => resolve(data));
      s.on('error', reject);
    });
    expect(tcpReply).toBe(hostname);
    expect((await udpExchange(port, 'x')).reply).toBe(hostname);
    expect(await terminate(w)).toBe(0);
  });

  it('refuses TCP/UDP mode together with HTTP mode', async () => {
    await expect(startWorkload(['agnhost', 'serve-hostname', '--udp'], /Serving/)).rejects.toThrow(
      /exited 1.*Can't server TCP\/UDP mode and HTTP mode at the same time/s,
    );
  });
});

describe('agnhost pause', () => {
  it('prints Paused and exits 2 on SIGTERM, 1 on SIGINT, as upstream', async () => {
    const a = await startWorkload(['agnhost', 'pause'], /Paused/);
    expect(await terminate(a, 'SIGTERM')).toBe(2);
    expect(a.stdout()).toContain('exiting 2');
    const b = await startWorkload(['agnhost', 'pause'], /Paused/);
    expect(await terminate(b, 'SIGINT')).toBe(1);
  });

  it('names the supported subcommands for an unknown one', async () => {
    await expect(startWorkload(['agnhost', 'porter'], /never/)).rejects.toThrow(/unknown command "porter" for "agnhost".*netexec, serve-hostname, pause/s);
  });
});
