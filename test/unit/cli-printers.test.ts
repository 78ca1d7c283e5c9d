import { describe, expect, it } from 'vitest';
import { RESOURCES } from '../../src/api/resources.js';
import type { Deployment, Node, Pod, Service } from '../../src/api/types.js';
import { humanDuration } from '../../src/cli/printers/age.js';
import { nodeRoles, nodeStatus, serviceExternalIP, servicePorts } from '../../src/cli/printers/columns-core.js';
import { formatObjects, parseOutputFormat } from '../../src/cli/printers/output.js';
import { summarizePod } from '../../src/cli/printers/pod-status.js';
import { TablePrinter } from '../../src/cli/printers/table.js';
import { DESCRIBE_LAYOUT, TABLE_LAYOUT, tabwrite } from '../../src/cli/printers/tabwriter.js';

const res = (plural: string) => RESOURCES.find((r) => r.plural === plural)!;
const NOW = Date.parse('2024-05-01T12:00:00Z');
const ago = (seconds: number) => new Date(NOW - seconds * 1000).toISOString();

describe('humanDuration', () => {
  it.each([
    [0, '0s'],
    [45, '45s'],
    [119, '119s'],
    [192, '3m12s'],
    [180, '3m'],
    [600, '10m'],
    [179 * 60, '179m'],
    [5 * 3600 + 3 * 60, '5h3m'],
    [8 * 3600 + 59 * 60, '8h'],
    [47 * 3600, '47h'],
    [3 * 86400 + 4 * 3600, '3d4h'],
    [400 * 86400, '400d'],
    [3 * 365 * 86400 + 20 * 86400, '3y20d'],
    [9 * 365 * 86400, '9y'],
  ])('%i seconds -> %s', (s, want) => {
    expect(humanDuration(s * 1000)).toBe(want);
  });

  it('tolerates a second of clock skew but not more', () => {
    expect(humanDuration(-1000)).toBe('0s');
    expect(humanDuration(-5000)).toBe('<invalid>');
  });
});

describe('tabwrite', () => {
  it('pads every cell but the last to the widest cell plus padding', () => {
    expect(tabwrite('NAME\tAGE\nweb-frontend\t5s\n', TABLE_LAYOUT)).toBe('NAME           AGE\nweb-frontend   5s\n');
  });

  it('applies the minimum width to narrow columns', () => {
    expect(tabwrite('A\tB\nx\ty\n', TABLE_LAYOUT)).toBe('A     B\nx     y\n');
  });

  it('aligns only consecutive lines that share a column, as Go tabwriter blocks', () => {
    const text = 'Name:\tweb\nLabels:\tapp=web\n\tx=y\nContainers:\n  c:\n    Image:\tnginx\n    Restart Count:\t0\n';
    expect(tabwrite(text, DESCRIBE_LAYOUT)).toBe(
      'Name:    web\nLabels:  app=web\n         x=y\nContainers:\n  c:\n    Image:          nginx\n    Restart Count:  0\n',
    );
  });
});

function pod(over: Partial<Pod> & { status?: Pod['status'] } = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'default', creationTimestamp: ago(30), ...(over.metadata ?? {}) },
    spec: { containers: [{ name: 'a' }, { name: 'b' }], ...(over.spec ?? {}) },
    status: over.status,
  };
}

describe('pod READY / STATUS / RESTARTS', () => {
  it('is the phase for a Pod nothing has happened to yet', () => {
    expect(summarizePod(pod({ status: { phase: 'Pending' } }), NOW)).toEqual({ ready: '0/2', status: 'Pending', restarts: '0' });
  });

  it('shows a waiting reason and counts ready running containers', () => {
    const p = pod({
      status: {
        phase: 'Running',
        containerStatuses: [
          { name: 'a', image: 'x', ready: true, restartCount: 0, state: { running: {} } },
          { name: 'b', image: 'x', ready: false, restartCount: 4, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1, finishedAt: ago(65) } } },
        ],
      },
    });
    expect(summarizePod(p, NOW)).toEqual({ ready: '1/2', status: 'CrashLoopBackOff', restarts: '4 (65s ago)' });
  });

  it('reports Completed and exit codes of terminated containers', () => {
    const done = pod({ spec: { containers: [{ name: 'a' }] }, status: { phase: 'Succeeded', containerStatuses: [{ name: 'a', image: 'x', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } }] } });
    expect(summarizePod(done, NOW).status).toBe('Completed');
    const failed = pod({ spec: { containers: [{ name: 'a' }] }, status: { phase: 'Failed', containerStatuses: [{ name: 'a', image: 'x', ready: false, restartCount: 0, state: { terminated: { exitCode: 3 } } }] } });
    expect(summarizePod(failed, NOW).status).toBe('ExitCode:3');
  });

  it('is Terminating once a deletion timestamp is set, whatever the phase', () => {
    const p = pod({ metadata: { name: 'web', deletionTimestamp: ago(-30) }, status: { phase: 'Running' } });
    expect(summarizePod(p, NOW).status).toBe('Terminating');
  });

  it('shows init progress before the app containers', () => {
    const p = pod({
      spec: { containers: [{ name: 'a' }], initContainers: [{ name: 'i1' }, { name: 'i2' }] },
      status: {
        phase: 'Pending',
        initContainerStatuses: [
          { name: 'i1', image: 'x', ready: false, restartCount: 0, state: { terminated: { exitCode: 0 } } },
          { name: 'i2', image: 'x', ready: false, restartCount: 0, state: { running: {} } },
        ],
      } as Pod['status'],
    });
    expect(summarizePod(p, NOW).status).toBe('Init:1/2');
  });
});

function service(spec: Service['spec'], status?: Service['status']): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec, status };
}

describe('service columns', () => {
  it('prints node ports before the protocol', () => {
    expect(servicePorts(service({ type: 'NodePort', ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }, { port: 53, protocol: 'UDP' }] }))).toBe('80:30080/TCP,53/UDP');
    expect(servicePorts(service({}))).toBe('<none>');
  });

  it('shows <pending> for a LoadBalancer without an address and the name for ExternalName', () => {
    expect(serviceExternalIP(service({ type: 'LoadBalancer' }))).toBe('<pending>');
    expect(serviceExternalIP(service({ type: 'LoadBalancer' }, { loadBalancer: { ingress: [{ ip: '172.18.0.200' }] } }))).toBe('172.18.0.200');
    expect(serviceExternalIP(service({ type: 'ClusterIP' }))).toBe('<none>');
    expect(serviceExternalIP(service({ type: 'ExternalName', externalName: 'example.com' }))).toBe('example.com');
  });
});

describe('node columns', () => {
  const node: Node = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'kemu-control-plane', labels: { 'node-role.kubernetes.io/control-plane': '', 'kubernetes.io/hostname': 'x' } },
    spec: { unschedulable: true },
    status: { conditions: [{ type: 'Ready', status: 'False' }] },
  };
  it('derives STATUS and ROLES as kubectl does', () => {
    expect(nodeStatus(node)).toBe('NotReady,SchedulingDisabled');
    expect(nodeRoles(node)).toBe('control-plane');
    expect(nodeStatus({ ...node, spec: {}, status: {} })).toBe('Unknown');
    expect(nodeRoles({ ...node, metadata: { name: 'w' } })).toBe('<none>');
  });
});

describe('TablePrinter', () => {
  const deploy: Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'demo', creationTimestamp: ago(192) },
    spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: { spec: { containers: [{ name: 'nginx', image: 'nginx:1.25' }] } } },
    status: { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 },
  };

  it('prints the deployment columns, with the namespace first under -A', () => {
    const t = new TablePrinter(res('deployments'), { wide: false, withNamespace: true, withKind: false, showLabels: false, now: () => NOW });
    expect(t.print([deploy])).toBe('NAMESPACE   NAME   READY   UP-TO-DATE   AVAILABLE   AGE\ndemo        web    2/3     3            2           3m12s\n');
  });

  it('adds the wide columns and kind-qualified names', () => {
    const t = new TablePrinter(res('deployments'), { wide: true, withNamespace: false, withKind: true, showLabels: false, now: () => NOW });
    const [header, row] = t.print([deploy]).trimEnd().split('\n');
    expect(header.split(/\s{2,}/)).toEqual(['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE', 'CONTAINERS', 'IMAGES', 'SELECTOR']);
    expect(row.split(/\s{2,}/)).toEqual(['deployment.apps/web', '2/3', '3', '2', '3m12s', 'nginx', 'nginx:1.25', 'app=web']);
  });

  it('keeps column widths for rows printed later and widens them when needed', () => {
    const t = new TablePrinter(res('namespaces'), { wide: false, withNamespace: false, withKind: false, showLabels: false, now: () => NOW });
    const first = t.print([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default', creationTimestamp: ago(10) }, status: { phase: 'Active' } }]);
    const later = t.print([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a', creationTimestamp: ago(5) }, status: { phase: 'Terminating' } }]);
    expect(first).toBe('NAME      STATUS   AGE\ndefault   Active   10s\n');
    expect(later).toBe('a         Terminating   5s\n');
  });

  it('puts NAME last in the wide event columns', () => {
    const t = new TablePrinter(res('events'), { wide: true, withNamespace: false, withKind: false, showLabels: false, now: () => NOW });
    const header = t.header();
    expect(header[0]).toBe('LAST SEEN');
    expect(header[header.length - 1]).toBe('NAME');
  });
});

describe('-o formats', () => {
  const p = pod({ status: { phase: 'Running' } });
  it('prints yaml with sorted keys and unindented sequences', () => {
    const text = formatObjects({ kind: 'yaml' }, [{ r: res('pods'), obj: p }], true);
    expect(text.split('\n').slice(0, 3)).toEqual(['apiVersion: v1', 'kind: Pod', 'metadata:']);
    expect(text).toContain('spec:\n  containers:\n  - name: a\n');
  });

  it('wraps several objects in a List and names them kind/name', () => {
    const json = JSON.parse(formatObjects({ kind: 'json' }, [{ r: res('pods'), obj: p }], false));
    expect(json).toMatchObject({ apiVersion: 'v1', kind: 'List', items: [{ kind: 'Pod' }] });
    expect(formatObjects({ kind: 'name' }, [{ r: res('deployments'), obj: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' } } }], false)).toBe('deployment.apps/web\n');
  });

  it('renders jsonpath templates and rejects unknown formats', () => {
    expect(formatObjects(parseOutputFormat('jsonpath={.metadata.name} is {.status.phase}') as { kind: 'jsonpath'; template: string }, [{ r: res('pods'), obj: p }], true)).toBe('web is Running');
    expect(() => parseOutputFormat('xml')).toThrow(/unable to match a printer suitable for the output format "xml"/);
  });
});
