// The ingress add-on's objects: valid for the API as they are, wired to each other (Service target
// ports name the Deployment's container ports, the selector matches the Pod labels) and to the
// controller (its class, its image, the API socket it must reach).
import { describe, expect, it } from 'vitest';
import { defaultClusterConfig } from '../../src/api/cluster.js';
import type { Deployment, IngressClass, KubeObject, Service } from '../../src/api/types.js';
import { ingressAddonObjects } from '../../src/cli/addons/ingress.js';
import { parseIngressFlags } from '../../src/ingress/cli.js';
import { CONTROLLER_NAME } from '../../src/ingress/config/ingress-class.js';
import { resolveImage } from '../../src/workloads/images.js';
import { errorsOf } from './validation-helpers.js';

const SOCKET = '/var/lib/kemu/lab/api.sock';
const objects = ingressAddonObjects(defaultClusterConfig('lab'), SOCKET);
const find = <T extends KubeObject>(kind: string): T => objects.find((o) => o.kind === kind) as T;

describe('ingress add-on objects', () => {
  it('are an IngressClass, a Service and a Deployment, each valid for the API after defaulting', () => {
    expect(objects.map((o) => o.kind)).toEqual(['IngressClass', 'Service', 'Deployment']);
    for (const o of objects) expect(errorsOf(o), o.kind).toEqual([]);
  });

  it('mark class kemu as the default class of the controller the ingress controller answers to', () => {
    const ic = find<IngressClass>('IngressClass');
    expect(ic.metadata.name).toBe('kemu');
    expect(ic.spec.controller).toBe(CONTROLLER_NAME);
    expect(ic.metadata.annotations).toEqual({ 'ingressclass.kubernetes.io/is-default-class': 'true' });
  });

  it('run one traefik:v3.1 Pod in kube-system that reaches the API socket and is ready on /ping', () => {
    const d = find<Deployment>('Deployment');
    expect(d.metadata.namespace).toBe('kube-system');
    expect(d.spec.replicas).toBe(1);
    const [c] = d.spec.template.spec!.containers;
    expect(c!.image).toBe('traefik:v3.1');
    expect(parseIngressFlags(c!.args!, {})).toMatchObject({ web: 80, websecure: 443, api: 9000, apiSocket: SOCKET });
    expect(resolveImage(c!.image!, c!.command, c!.args)).toEqual({ kind: 'builtin', program: 'traefik', args: c!.args });
    expect(c!.readinessProbe?.httpGet).toMatchObject({ path: '/ping', port: 9000 });
    expect(c!.ports).toEqual([
      { name: 'web', containerPort: 80, hostPort: 80, protocol: 'TCP' },
      { name: 'websecure', containerPort: 443, hostPort: 443, protocol: 'TCP' },
      { name: 'traefik', containerPort: 9000, protocol: 'TCP' },
    ]);
  });

  it('publish web on NodePort 30080 and websecure on 30443, selecting the controller Pod', () => {
    const svc = find<Service>('Service');
    const d = find<Deployment>('Deployment');
    expect(svc.spec.type).toBe('NodePort');
    expect(svc.spec.ports!.map((p) => [p.targetPort, p.nodePort])).toEqual([
      ['web', 30080],
      ['websecure', 30443],
    ]);
    const containerPorts = d.spec.template.spec!.containers[0]!.ports!.map((p) => p.name);
    for (const p of svc.spec.ports!) expect(containerPorts).toContain(p.targetPort);
    expect(d.spec.template.metadata?.labels).toMatchObject(svc.spec.selector!);
    expect(d.spec.selector.matchLabels).toEqual(svc.spec.selector);
  });

  it('leave the NodePorts to the allocator when the cluster range does not hold 30080 and 30443', () => {
    const config = { ...defaultClusterConfig('lab'), nodePortRange: { min: 31000, max: 32767 } };
    const svc = ingressAddonObjects(config, SOCKET).find((o) => o.kind === 'Service') as Service;
    expect(svc.spec.ports!.map((p) => p.nodePort)).toEqual([undefined, undefined]);
  });

  it('run traefik images as the built-in controller, through the image entrypoint as Docker would', () => {
    expect(resolveImage('docker.io/library/traefik:v3.1', ['traefik', '--ping'])).toEqual({ kind: 'builtin', program: 'traefik', args: ['--ping'] });
    expect(resolveImage('traefik', [], [])).toEqual({ kind: 'builtin', program: 'traefik', args: [] });
    expect(resolveImage('traefik:v3.1', ['/entrypoint.sh', 'sh', '-c', 'true'])).toEqual({ kind: 'exec', command: 'sh', args: ['-c', 'true'] });
  });
});
