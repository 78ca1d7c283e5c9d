import { describe, expect, it } from 'vitest';
import type { Deployment, ReplicaSet } from '../../src/api/types.js';
import {
  DESIRED_REPLICAS_ANNOTATION,
  MAX_REPLICAS_ANNOTATION,
  newReplicaSetFor,
  planDeployment,
  resolveFenceposts,
  REVISION_ANNOTATION,
  type DeploymentPlan,
} from '../../src/controllers/deployment-plan.js';
import { computePodTemplateHash, POD_TEMPLATE_HASH_LABEL } from '../../src/controllers/pod-template-hash.js';
import { deployment } from './controllers-fixtures.js';

const NOW = '2024-01-01T00:10:00Z';

describe('pod-template-hash', () => {
  it('uses the safe alphabet, is at most 10 characters and ignores key order', () => {
    const a = computePodTemplateHash({ metadata: { labels: { app: 'web', tier: 'fe' } }, spec: { containers: [{ name: 'c', image: 'x' }] } });
    const b = computePodTemplateHash({ spec: { containers: [{ image: 'x', name: 'c' }] }, metadata: { labels: { tier: 'fe', app: 'web' } } });
    expect(a).toBe(b);
    expect(a).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
  });

  it('changes with the template and with collisionCount', () => {
    const t = deployment(1).spec.template;
    const t2 = deployment(1, { image: 'nginx:2' }).spec.template;
    expect(computePodTemplateHash(t)).not.toBe(computePodTemplateHash(t2));
    expect(computePodTemplateHash(t, 1)).not.toBe(computePodTemplateHash(t));
  });

  it('maps decimal digits as SafeEncodeString does (0->4 ... 6->b ... 9->f)', () => {
    // every character of a hash is the image of a digit: only these ten can occur
    const h = computePodTemplateHash(deployment(1, { image: 'any' }).spec.template);
    for (const ch of h) expect('456789bcdf').toContain(ch);
  });
});

describe('resolveFenceposts', () => {
  const rolling = (maxSurge: number | string, maxUnavailable: number | string) => ({ type: 'RollingUpdate' as const, rollingUpdate: { maxSurge, maxUnavailable } });
  it('rounds surge up and unavailable down', () => {
    expect(resolveFenceposts(deployment(10))).toEqual({ maxSurge: 3, maxUnavailable: 2 });
    expect(resolveFenceposts(deployment(10, { strategy: rolling('10%', '15%') }))).toEqual({ maxSurge: 1, maxUnavailable: 1 });
  });
  it('turns both zero into unavailable 1', () => {
    expect(resolveFenceposts(deployment(3, { strategy: rolling(0, '10%') }))).toEqual({ maxSurge: 0, maxUnavailable: 1 });
  });
});

/** Applies a plan to the ReplicaSets (the API server's part), giving created ones a timestamp and uid. */
function apply(rss: ReplicaSet[], plan: DeploymentPlan, step: number): ReplicaSet[] {
  let out = rss.map((rs) => plan.update.find((u) => u.metadata.name === rs.metadata.name) ?? rs);
  out = out.filter((rs) => !plan.delete.includes(rs.metadata.name ?? ''));
  if (plan.create) {
    const rs = structuredClone(plan.create);
    rs.metadata.uid = `rs-${step}`;
    rs.metadata.creationTimestamp = new Date(Date.parse(NOW) + step * 1000).toISOString();
    rs.status = { replicas: 0, availableReplicas: 0, readyReplicas: 0 };
    out.push(rs);
  }
  return out;
}

/** The ReplicaSet controller and kubelets: every RS gets Pods for its spec, `ready` of the new ones become ready. */
function converge(rss: ReplicaSet[]): ReplicaSet[] {
  return rss.map((rs) => ({ ...rs, status: { replicas: rs.spec.replicas ?? 0, readyReplicas: rs.spec.replicas ?? 0, availableReplicas: rs.spec.replicas ?? 0, observedGeneration: 1 } }));
}

function startedDeployment(replicas: number, strategy?: Deployment['spec']['strategy']): { d: Deployment; rss: ReplicaSet[] } {
  let d = deployment(replicas, { strategy });
  let rss: ReplicaSet[] = [];
  for (let i = 0; i < 5; i++) {
    const plan = planDeployment(d, rss, false, NOW);
    rss = converge(apply(rss, plan, i));
    d = { ...d, status: plan.status };
  }
  return { d, rss };
}

describe('planDeployment: a new Deployment', () => {
  it('creates <name>-<hash> with all replicas, revision 1, and says so in Progressing', () => {
    const d = deployment(3);
    const plan = planDeployment(d, [], false, NOW);
    const hash = computePodTemplateHash(d.spec.template);
    expect(plan.create?.metadata.name).toBe(`web-${hash}`);
    expect(plan.create?.spec.replicas).toBe(3);
    expect(plan.create?.spec.selector.matchLabels).toEqual({ app: 'web', [POD_TEMPLATE_HASH_LABEL]: hash });
    expect(plan.create?.spec.template.metadata?.labels).toEqual({ app: 'web', [POD_TEMPLATE_HASH_LABEL]: hash });
    expect(plan.create?.metadata.annotations).toMatchObject({ [REVISION_ANNOTATION]: '1', [DESIRED_REPLICAS_ANNOTATION]: '3', [MAX_REPLICAS_ANNOTATION]: '4' });
    expect(plan.create?.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Deployment', name: 'web', uid: 'deploy-uid', controller: true });
    expect(plan.deploymentRevision).toBe('1');
    const progressing = plan.status.conditions?.find((c) => c.type === 'Progressing');
    expect(progressing).toMatchObject({ status: 'True', reason: 'NewReplicaSetCreated', message: `Created new replica set "web-${hash}"` });
    expect(plan.status.conditions?.find((c) => c.type === 'Available')).toMatchObject({ status: 'False', reason: 'MinimumReplicasUnavailable' });
  });

  it('reports completion once all replicas are available', () => {
    const { d } = startedDeployment(3);
    expect(d.status).toMatchObject({ replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3, unavailableReplicas: 0, observedGeneration: 1 });
    expect(d.status?.conditions?.find((c) => c.type === 'Available')).toMatchObject({ status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' });
    expect(d.status?.conditions?.find((c) => c.type === 'Progressing')).toMatchObject({ status: 'True', reason: 'NewReplicaSetAvailable' });
  });
});

describe('planDeployment: rolling update', () => {
  it('first step: new RS gets maxSurge Pods and old loses what maxUnavailable allows', () => {
    const strategy = { type: 'RollingUpdate' as const, rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } };
    const { d, rss } = startedDeployment(4, strategy);
    const updated = { ...d, metadata: { ...d.metadata, generation: 2 }, spec: { ...d.spec, template: deployment(4, { image: 'nginx:2' }).spec.template } };
    const plan = planDeployment(updated, rss, false, NOW);
    expect(plan.create?.spec.replicas).toBe(1); // 4 + 1 surge - 4 existing
    expect(plan.create?.metadata.annotations?.[REVISION_ANNOTATION]).toBe('2');
    expect(plan.update.map((rs) => rs.spec.replicas)).toEqual([3]); // 4 available - (4 - 1) minimum
  });

  for (const [surge, unavailable] of [[1, 0], [0, 1], ['25%', '25%'], [2, 3], ['50%', 0]] as const) {
    it(`keeps within maxSurge=${surge} maxUnavailable=${unavailable} at every step and converges`, () => {
      const replicas = 6;
      const strategy = { type: 'RollingUpdate' as const, rollingUpdate: { maxSurge: surge, maxUnavailable: unavailable } };
      let { d, rss } = startedDeployment(replicas, strategy);
      d = { ...d, metadata: { ...d.metadata, generation: 2 }, spec: { ...d.spec, template: deployment(replicas, { image: 'nginx:2' }).spec.template } };
      const { maxSurge, maxUnavailable } = resolveFenceposts(d);
      let steps = 0;
      for (; steps < 40; steps++) {
        const plan = planDeployment(d, rss, false, NOW);
        d = { ...d, status: plan.status };
        const next = apply(rss, plan, steps + 10);
        const total = next.reduce((n, rs) => n + (rs.spec.replicas ?? 0), 0);
        expect(total).toBeLessThanOrEqual(replicas + maxSurge);
        // Pods of scaled-down RSs are gone; new ones are not yet available before converge().
        const available = next.reduce((n, rs) => n + Math.min(rs.spec.replicas ?? 0, rs.status?.availableReplicas ?? 0), 0);
        expect(available).toBeGreaterThanOrEqual(replicas - maxUnavailable);
        if (!plan.create && plan.update.length === 0 && plan.delete.length === 0) break;
        rss = converge(next);
      }
      expect(steps).toBeLessThan(40);
      const newHash = computePodTemplateHash(d.spec.template);
      expect(rss.find((rs) => rs.metadata.name === `web-${newHash}`)?.spec.replicas).toBe(replicas);
      expect(rss.filter((rs) => rs.metadata.name !== `web-${newHash}`).every((rs) => rs.spec.replicas === 0)).toBe(true);
      expect(d.status?.conditions?.find((c) => c.type === 'Progressing')?.reason).toBe('NewReplicaSetAvailable');
    });
  }

  it('rolling back to an older template reuses its ReplicaSet with the next revision', () => {
    const { d, rss } = startedDeployment(2);
    const v2 = { ...d, spec: { ...d.spec, template: deployment(2, { image: 'nginx:2' }).spec.template } };
    let current = rss;
    let dd: Deployment = v2;
    for (let i = 0; i < 10; i++) {
      const plan = planDeployment(dd, current, false, NOW);
      current = converge(apply(current, plan, 20 + i));
      dd = { ...dd, status: plan.status };
    }
    const back = { ...dd, spec: { ...dd.spec, template: deployment(2).spec.template } };
    const plan = planDeployment(back, current, false, NOW);
    expect(plan.create).toBeUndefined();
    const oldRs = plan.update.find((rs) => rs.metadata.name === rss[0].metadata.name);
    expect(oldRs?.metadata.annotations?.[REVISION_ANNOTATION]).toBe('3');
    expect(plan.deploymentRevision).toBe('3');
  });
});

describe('planDeployment: Recreate', () => {
  it('scales old to zero, waits for old Pods, then creates the new RS at full size', () => {
    const { d, rss } = startedDeployment(3, { type: 'Recreate' });
    const v2 = { ...d, spec: { ...d.spec, template: deployment(3, { image: 'nginx:2' }).spec.template } };
    const first = planDeployment(v2, rss, true, NOW);
    expect(first.create).toBeUndefined();
    expect(first.update.map((rs) => rs.spec.replicas)).toEqual([0]);
    const scaledDown = apply(rss, first, 1);
    expect(planDeployment(v2, scaledDown, true, NOW).create).toBeUndefined();
    const gone = converge(scaledDown);
    const last = planDeployment(v2, gone, false, NOW);
    expect(last.create?.spec.replicas).toBe(3);
  });
});

describe('planDeployment: scaling', () => {
  it('resizes the only active ReplicaSet and refreshes its annotations', () => {
    const { d, rss } = startedDeployment(3);
    for (const replicas of [5, 1]) {
      const plan = planDeployment({ ...d, spec: { ...d.spec, replicas } }, rss, false, NOW);
      expect(plan.update).toHaveLength(1);
      expect(plan.update[0].spec.replicas).toBe(replicas);
      expect(plan.update[0].metadata.annotations?.[DESIRED_REPLICAS_ANNOTATION]).toBe(String(replicas));
    }
  });

  it('scales proportionally across ReplicaSets in the middle of a rollout', () => {
    // 10 replicas, surge 3: old 8 + new 5 = 13 = max-replicas. Scaling to 15 (surge 4) allows 19:
    // old gets round(8*19/13)-8 = 4, new gets the remaining 2.
    const d = deployment(15);
    const mk = (rs: ReplicaSet, replicas: number, created: string) => {
      rs.spec.replicas = replicas;
      rs.metadata.creationTimestamp = created;
      rs.metadata.annotations = { ...rs.metadata.annotations, [DESIRED_REPLICAS_ANNOTATION]: '10', [MAX_REPLICAS_ANNOTATION]: '13' };
      rs.status = { replicas, availableReplicas: replicas };
      return rs;
    };
    const old = mk(newReplicaSetFor(deployment(10, { image: 'old' }), 1), 8, '2024-01-01T00:00:00Z');
    const cur = mk(newReplicaSetFor(d, 2), 5, '2024-01-01T00:05:00Z');
    old.metadata.uid = 'o';
    cur.metadata.uid = 'n';
    const plan = planDeployment(d, [old, cur], false, NOW);
    const size = (name: string | undefined) => plan.update.find((rs) => rs.metadata.name === name)?.spec.replicas;
    expect(size(old.metadata.name)).toBe(12);
    expect(size(cur.metadata.name)).toBe(7);
  });
});

describe('planDeployment: history cleanup', () => {
  it('deletes the oldest zero-sized ReplicaSets beyond revisionHistoryLimit once complete', () => {
    const { d, rss } = startedDeployment(1);
    const d2 = { ...d, spec: { ...d.spec, revisionHistoryLimit: 1 } };
    const old = [1, 2, 3].map((rev) => {
      const rs = newReplicaSetFor(deployment(1, { image: `v${rev}` }), rev);
      rs.metadata.uid = `old-${rev}`;
      rs.status = { replicas: 0 };
      return rs;
    });
    const current = rss.map((rs) => ({ ...rs, metadata: { ...rs.metadata, annotations: { ...rs.metadata.annotations, [REVISION_ANNOTATION]: '4' } } }));
    const plan = planDeployment(d2, [...old, ...current], false, NOW);
    expect(plan.delete).toEqual([old[0].metadata.name, old[1].metadata.name]);
  });
});
