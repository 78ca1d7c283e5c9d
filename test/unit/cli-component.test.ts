// `kemu component`: its argument rules, and the node agent's control protocol over a real Unix
// socket in a temporary state directory (no root needed): requests are checked, answered, and a
// node without an agent is named in the error.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { componentRequest } from '../../src/cli/commands/component.js';
import { controlSocketPath, parseControlRequest, sendNodeControl, serveNodeControl, type ControlRequest } from '../../src/cli/node-control.js';

let stateRoot: string;
let savedRoot: string | undefined;

beforeAll(() => {
  savedRoot = process.env.KEMU_STATE_ROOT;
  stateRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'kemu-ctl-'));
  process.env.KEMU_STATE_ROOT = stateRoot;
  fs.mkdirSync(path.join(stateRoot, 'c'));
});

afterAll(() => {
  if (savedRoot === undefined) delete process.env.KEMU_STATE_ROOT;
  else process.env.KEMU_STATE_ROOT = savedRoot;
  fs.rmSync(stateRoot, { recursive: true, force: true });
});

describe('kemu component arguments', () => {
  it('takes ACTION COMPONENT, and status alone', () => {
    expect(componentRequest(['stop', 'kube-proxy'])).toEqual({ action: 'stop', component: 'kube-proxy' });
    expect(componentRequest(['restart', 'flannel'])).toEqual({ action: 'restart', component: 'flannel' });
    expect(componentRequest(['status'])).toEqual({ action: 'status' });
  });

  it('names the wrong word and what is allowed', () => {
    expect(() => componentRequest([])).toThrow('unknown action "": use kemu component start|stop|restart|status kube-proxy|flannel --node NODE');
    expect(() => componentRequest(['halt', 'kube-proxy'])).toThrow(/^unknown action "halt"/);
    expect(() => componentRequest(['stop'])).toThrow('kemu component stop needs a component: kube-proxy or flannel');
    expect(() => componentRequest(['stop', 'kubelet'])).toThrow('unknown component "kubelet": must be one of kube-proxy, flannel');
    expect(() => componentRequest(['stop', 'kube-proxy', 'flannel'])).toThrow('kemu component stop takes one component; got kube-proxy flannel');
  });
});

describe('the control protocol', () => {
  it('checks requests', () => {
    expect(parseControlRequest('{"action":"status"}')).toEqual({ action: 'status' });
    expect(parseControlRequest('{"action":"stop","component":"flannel"}')).toEqual({ action: 'stop', component: 'flannel' });
    expect(parseControlRequest('nope')).toBe('the request is not JSON');
    expect(parseControlRequest('{"action":"stop"}')).toBe('component must be one of kube-proxy, flannel');
    expect(parseControlRequest('{"action":"kill","component":"flannel"}')).toBe('action must be one of start, stop, restart, status');
  });

  it('carries a request to the agent and its answer back over the socket', async () => {
    const seen: ControlRequest[] = [];
    const server = await serveNodeControl(controlSocketPath('c', 'c-worker'), async (req) => {
      seen.push(req);
      if (req.component === 'flannel') throw new Error('flannel failed to start: no eth0');
      return { ok: true, components: [{ name: 'kube-proxy', active: req.action !== 'stop', since: '2026-01-01T00:00:00Z' }] };
    });
    try {
      expect(fs.statSync(controlSocketPath('c', 'c-worker')).mode & 0o777).toBe(0o600);
      expect(await sendNodeControl('c', 'c-worker', { action: 'stop', component: 'kube-proxy' })).toEqual({
        ok: true,
        components: [{ name: 'kube-proxy', active: false, since: '2026-01-01T00:00:00Z' }],
      });
      expect(await sendNodeControl('c', 'c-worker', { action: 'start', component: 'flannel' })).toEqual({ ok: false, error: 'flannel failed to start: no eth0' });
      expect(seen).toEqual([
        { action: 'stop', component: 'kube-proxy' },
        { action: 'start', component: 'flannel' },
      ]);
    } finally {
      await server.close();
    }
    expect(fs.existsSync(controlSocketPath('c', 'c-worker'))).toBe(false);
    await expect(sendNodeControl('c', 'c-worker', { action: 'status' })).rejects.toThrow(`the node agent of c-worker is not running (${controlSocketPath('c', 'c-worker')})`);
  });
});
