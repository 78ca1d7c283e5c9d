import { describe, expect, it } from 'vitest';
import { parseImageReference, resolveImage, supportedImages } from '../../src/workloads/images.js';

describe('parseImageReference', () => {
  it('splits registry, repository, tag and digest', () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    expect(parseImageReference(`registry.k8s.io/e2e-test-images/agnhost:2.47@${digest}`)).toEqual({
      registry: 'registry.k8s.io',
      repository: 'e2e-test-images/agnhost',
      tag: '2.47',
      digest,
    });
    expect(parseImageReference('localhost:5000/whoami')).toEqual({ registry: 'localhost:5000', repository: 'whoami' });
  });

  it('puts Docker Hub official images under library/', () => {
    expect(parseImageReference('nginx:1.27')).toEqual({ registry: 'docker.io', repository: 'library/nginx', tag: '1.27' });
    expect(parseImageReference('traefik/whoami')).toEqual({ registry: 'docker.io', repository: 'traefik/whoami' });
  });

  it('refuses malformed references', () => {
    for (const bad of ['Nginx', 'nginx:', 'nginx@sha256:zz', 'a//b', '', 'nginx:bad tag']) {
      expect(parseImageReference(bad), bad).toBeUndefined();
    }
  });
});

describe('resolveImage', () => {
  it('maps agnhost from any registry to the built-in, defaulting to pause', () => {
    expect(resolveImage('registry.k8s.io/e2e-test-images/agnhost:2.47', [], ['netexec', '--http-port=8080'])).toEqual({
      kind: 'builtin',
      program: 'agnhost',
      args: ['netexec', '--http-port=8080'],
    });
    expect(resolveImage('k8s.gcr.io/e2e-test-images/agnhost:2.39', ['/agnhost', 'serve-hostname'])).toEqual({
      kind: 'builtin',
      program: 'agnhost',
      args: ['serve-hostname'],
    });
    expect(resolveImage('registry.k8s.io/e2e-test-images/agnhost:2.47')).toEqual({ kind: 'builtin', program: 'agnhost', args: ['pause'] });
  });

  it('runs other commands in agnhost, busybox and alpine with the host tools', () => {
    expect(resolveImage('registry.k8s.io/e2e-test-images/agnhost:2.47', ['sh', '-c'], ['sleep 1'])).toEqual({
      kind: 'exec',
      command: 'sh',
      args: ['-c', 'sleep 1'],
    });
    expect(resolveImage('busybox:1.36', ['sleep', '3600'])).toEqual({ kind: 'exec', command: 'sleep', args: ['3600'] });
    expect(resolveImage('docker.io/library/busybox')).toEqual({ kind: 'exec', command: 'sh', args: [] });
    expect(resolveImage('alpine:3.20')).toEqual({ kind: 'exec', command: '/bin/sh', args: [] });
  });

  it('keeps curlimages/curl\'s entrypoint behaviour', () => {
    expect(resolveImage('curlimages/curl:8.8.0', [], ['-s', 'http://x'])).toEqual({ kind: 'exec', command: 'curl', args: ['-s', 'http://x'] });
    expect(resolveImage('curlimages/curl', [], ['sh', '-c', 'echo'])).toEqual({ kind: 'exec', command: 'sh', args: ['-c', 'echo'] });
    expect(resolveImage('curlimages/curl')).toEqual({ kind: 'exec', command: 'curl', args: [] });
  });

  it('maps whoami, nginx, the echo server and pause to built-ins', () => {
    expect(resolveImage('traefik/whoami:v1.10', [], ['--port', '8080'])).toEqual({ kind: 'builtin', program: 'whoami', args: ['--port', '8080'] });
    expect(resolveImage('nginx:1.27')).toEqual({ kind: 'builtin', program: 'nginx', args: [] });
    expect(resolveImage('mirror.gcr.io/library/nginx', ['nginx', '-g', 'daemon off;'])).toEqual({ kind: 'builtin', program: 'nginx', args: [] });
    expect(resolveImage('nginx', ['sh', '-c', 'ls'])).toEqual({ kind: 'exec', command: 'sh', args: ['-c', 'ls'] });
    expect(resolveImage('k8s.gcr.io/ingressconformance/echoserver:v0.0.1')).toEqual({ kind: 'builtin', program: 'echoserver', args: [] });
    expect(resolveImage('registry.k8s.io/pause:3.10')).toEqual({ kind: 'builtin', program: 'pause', args: [] });
  });

  it('refuses commands missing from single-binary images as the runtime does', () => {
    expect(resolveImage('traefik/whoami', ['sh'])).toEqual({
      kind: 'error',
      reason: 'RunContainerError',
      message: 'exec: "sh": executable file not found in $PATH',
    });
  });

  it('names the supported images for an unknown one', () => {
    const r = resolveImage('redis:7');
    expect(r.kind).toBe('error');
    if (r.kind !== 'error') return;
    expect(r.reason).toBe('ErrImagePull');
    expect(r.message).toMatch(/^Failed to pull image "redis:7": /);
    for (const image of supportedImages) expect(r.message).toContain(image);
    expect(supportedImages).toContain('registry.k8s.io/e2e-test-images/agnhost');
  });

  it('reports a malformed reference with the kubelet\'s InvalidImageName wording', () => {
    expect(resolveImage('Nginx')).toEqual({
      kind: 'error',
      reason: 'InvalidImageName',
      message: 'Failed to apply default image tag "Nginx": couldn\'t parse image name "Nginx": invalid reference format',
    });
  });
});
