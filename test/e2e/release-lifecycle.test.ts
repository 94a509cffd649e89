// The real operator entrypoint against the real kube-apiserver: releases walk
// their steps, and people steer them with the documented kubectl commands.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from '@jest/globals';
import { operatorForSuite } from './support/suite.js';
import { Cluster, bookinfoVirtualServiceSpec, condition, kubeconfigPath, stepsTold, waitFor, waitForRelease } from './support/cluster.js';

const run = promisify(execFile);
const c = new Cluster();

const spec = (extra: Record<string, unknown> = {}) => ({
  service: 'reviews',
  virtualService: { name: 'reviews' },
  destinationRule: { name: 'reviews' },
  stable: { subset: 'v1' },
  canary: { subset: 'v2' },
  ...extra,
});
const kubectl = (...args: string[]) => run('kubectl', ['--kubeconfig', kubeconfigPath(), ...args], { timeout: 60_000 });

operatorForSuite();

describe('a release', () => {
  it('walks its steps to Succeeded, one VirtualService write per step, never backwards', async () => {
    const ns = await c.namespace('walk');
    await c.bookinfo(ns);
    const gen0 = (await c.virtualService(ns)).metadata as { generation?: number };
    const waitPromoted = kubectl('wait', '-n', ns, 'canaryrelease/reviews', '--for=condition=Promoted', '--timeout=60s');
    await c.createRelease(ns, spec({ steps: [{ weight: 10, duration: '2s' }, { weight: 50, duration: '2s' }, { weight: 100 }] }));

    const seen: number[] = [];
    const done = await waitFor('Succeeded', async () => {
      const w = (await c.weights(ns)).v2 ?? 0;
      if (seen.at(-1) !== w) seen.push(w);
      const r = await c.release(ns);
      return r?.status?.phase === 'Succeeded' ? r : undefined;
    }, 30_000, 100);
    if ((await c.weights(ns)).v2 !== seen.at(-1)) seen.push((await c.weights(ns)).v2 ?? 0);

    expect(seen.filter((w) => w > 0)).toEqual([10, 50, 100]);
    expect(await c.settled(ns, { v1: 0, v2: 100 })).toEqual({ v1: 0, v2: 100 });
    expect(done.status).toMatchObject({ phase: 'Succeeded', canaryWeight: 100, currentStep: 3, totalSteps: 3, stableSubset: 'v1', canarySubset: 'v2' });
    expect(condition(done, 'Promoted')?.status).toBe('True');
    const gen1 = (await c.virtualService(ns)).metadata as { generation?: number };
    expect((gen1.generation ?? 0) - (gen0.generation ?? 0)).toBe(3);
    const events = await c.eventsWith(ns, ['Promoted']);
    const reasons = events.map((e) => e.reason);
    // Each step told once (the first in the Started Event when taken with the start).
    expect(stepsTold(events).sort()).toEqual(['1', '2']);
    expect(reasons.filter((r) => r === 'Promoted')).toHaveLength(1);
    expect(reasons).toContain('Started');
    await expect(waitPromoted).resolves.toMatchObject({ stdout: expect.stringContaining('condition met') });
  }, 60_000);

  it('writes as field manager canary-operator: managedFields of the VirtualService and the release name it, never node-fetch', async () => {
    const ns = await c.namespace('manager');
    // The test writes under its own name, so every other entry is the operator's.
    await c.bookinfo(ns, { fieldManager: 'e2e-test' });
    await c.createRelease(ns, spec({ stepWeight: 50, stepDuration: '1s' }), 'reviews', undefined, 'e2e-test');
    await waitForRelease(c, ns, 'Succeeded', (r) => r.status?.phase === 'Succeeded');
    type Managed = { metadata: { managedFields?: { manager?: string; subresource?: string }[] } };
    const managers = (o: Managed) => o.metadata.managedFields?.map((f) => `${f.manager}${f.subresource ? `/${f.subresource}` : ''}`) ?? [];
    const vs = (await c.virtualService(ns)) as unknown as Managed;
    expect(managers(vs).sort()).toEqual(['canary-operator', 'e2e-test']);
    const release = (await c.release(ns)) as unknown as Managed;
    expect(managers(release)).toEqual(expect.arrayContaining(['canary-operator/status', 'e2e-test']));
    expect(managers(release).filter((m) => !m.startsWith('canary-operator') && m !== 'e2e-test')).toEqual([]);
    expect(JSON.stringify([vs.metadata.managedFields, release.metadata.managedFields])).not.toContain('node-fetch');
  }, 60_000);

  it('leaves the header-match route and every other field byte-for-byte alone', async () => {
    const ns = await c.namespace('untouched');
    await c.bookinfo(ns);
    const before = (await c.virtualService(ns)).spec;
    await c.createRelease(ns, spec({ stepWeight: 50, stepDuration: '1s' }));
    await waitForRelease(c, ns, 'Succeeded', (r) => r.status?.phase === 'Succeeded');
    await c.settled(ns, { v1: 0, v2: 100 });
    const after = (await c.virtualService(ns)).spec;
    expect(after.http[0]).toEqual(before.http[0]);
    const { route: routeBefore, ...restBefore } = before.http[1] as { route: unknown };
    const { route: routeAfter, ...restAfter } = after.http[1] as { route: unknown };
    expect(restAfter).toEqual(restBefore);
    expect(routeAfter).toEqual([
      { destination: { host: 'reviews', subset: 'v1' }, weight: 0 },
      { destination: { host: 'reviews', subset: 'v2' }, weight: 100 },
    ]);
    expect(after.hosts).toEqual(before.hosts);
    expect(routeBefore).toEqual(bookinfoVirtualServiceSpec().http[1]?.route);
  }, 60_000);

  it('is refused with the field named when the spec is invalid, and moves no traffic', async () => {
    const ns = await c.namespace('invalid');
    await c.bookinfo(ns);
    await c.createRelease(ns, spec({ steps: [{ weight: 50, duration: '1s' }, { weight: 20, duration: '1s' }] }));
    const r = await waitForRelease(c, ns, 'SpecValid=False', (x) => condition(x, 'SpecValid')?.status === 'False');
    expect(condition(r, 'SpecValid')?.message).toContain('spec.steps[1].weight');
    expect(r.status?.message).toContain('spec.steps[1].weight');
    const events = await waitFor('InvalidSpec event', async () => {
      const e = (await c.events(ns)).filter((x) => x.reason === 'InvalidSpec');
      return e.length ? e : undefined;
    });
    expect(events[0]?.type).toBe('Warning');
    expect(events[0]?.message).toContain('spec.steps[1].weight');
    await new Promise((res) => setTimeout(res, 1500));
    expect(await c.settled(ns, { v1: 100 })).toEqual({ v1: 100 });
    expect((await c.release(ns))?.status?.phase).toBe('Pending');

    // Fixing the spec lets the release run.
    await c.patchRelease(ns, { spec: { steps: [{ weight: 20, duration: '1s' }, { weight: 100 }] } });
    await waitForRelease(c, ns, 'Succeeded after the fix', (x) => x.status?.phase === 'Succeeded');
  }, 60_000);

  it('is refused when a subset is missing from the DestinationRule', async () => {
    const ns = await c.namespace('nosubset');
    await c.bookinfo(ns, { versions: ['v1', 'v2'] });
    await c.createRelease(ns, spec({ canary: { subset: 'v9' } }));
    const r = await waitForRelease(c, ns, 'TrafficRoutable=False', (x) => condition(x, 'TrafficRoutable')?.status === 'False');
    expect(condition(r, 'TrafficRoutable')?.reason).toBe('SubsetNotFound');
    expect(r.status?.message).toContain('spec.canary.subset');
    expect(await c.settled(ns, { v1: 100 })).toEqual({ v1: 100 });
  }, 30_000);

  it('pauses and resumes through spec.paused, with the weights frozen meanwhile', async () => {
    const ns = await c.namespace('pause');
    await c.bookinfo(ns);
    await c.createRelease(ns, spec({ steps: [{ weight: 20, duration: '2s' }, { weight: 100 }] }));
    await waitForRelease(c, ns, 'step 1', (r) => r.status?.currentStep === 1);
    await kubectl('patch', '-n', ns, 'canaryrelease/reviews', '--type', 'merge', '-p', '{"spec":{"paused":true}}');
    await waitForRelease(c, ns, 'Paused', (r) => r.status?.phase === 'Paused');
    await new Promise((res) => setTimeout(res, 3000));
    expect(await c.settled(ns, { v1: 80, v2: 20 })).toEqual({ v1: 80, v2: 20 });
    expect((await c.release(ns))?.status?.phase).toBe('Paused');
    await kubectl('patch', '-n', ns, 'canaryrelease/reviews', '--type', 'merge', '-p', '{"spec":{"paused":false}}');
    await waitForRelease(c, ns, 'Succeeded after resume', (r) => r.status?.phase === 'Succeeded');
    expect(await c.settled(ns, { v1: 0, v2: 100 })).toEqual({ v1: 0, v2: 100 });
    const reasons = (await c.eventsWith(ns, ['Paused', 'Resumed'])).map((e) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(['Paused', 'Resumed']));
  }, 60_000);

  it('promotes at once on the promote annotation', async () => {
    const ns = await c.namespace('promote');
    await c.bookinfo(ns);
    await c.createRelease(ns, spec({ steps: [{ weight: 10, duration: '10m' }, { weight: 100 }] }));
    await waitForRelease(c, ns, 'step 1', (r) => r.status?.currentStep === 1);
    await kubectl('annotate', '-n', ns, 'canaryrelease/reviews', 'canary-operator.dev/promote=now', '--overwrite');
    const r = await waitForRelease(c, ns, 'Succeeded', (x) => x.status?.phase === 'Succeeded');
    expect(condition(r, 'Promoted')?.reason).toBe('ManualPromotion');
    expect(await c.settled(ns, { v1: 0, v2: 100 })).toEqual({ v1: 0, v2: 100 });
  }, 30_000);

  it('aborts back to stable, then retries from the first step without a spec edit', async () => {
    const ns = await c.namespace('abort');
    await c.bookinfo(ns);
    await c.createRelease(ns, spec({ steps: [{ weight: 30, duration: '10m' }, { weight: 100 }] }));
    await waitForRelease(c, ns, 'step 1', (r) => r.status?.currentStep === 1);
    expect(await c.settled(ns, { v1: 70, v2: 30 })).toEqual({ v1: 70, v2: 30 });
    await kubectl('annotate', '-n', ns, 'canaryrelease/reviews', 'canary-operator.dev/abort=1', '--overwrite');
    const aborted = await waitForRelease(c, ns, 'RolledBack', (r) => r.status?.phase === 'RolledBack');
    expect(condition(aborted, 'Progressing')?.reason).toBe('Aborted');
    expect(await c.settled(ns, { v1: 100, v2: 0 })).toEqual({ v1: 100, v2: 0 });
    const generation = (await c.release(ns))?.metadata.generation;

    await kubectl('annotate', '-n', ns, 'canaryrelease/reviews', 'canary-operator.dev/retry=1', '--overwrite');
    const retried = await waitForRelease(c, ns, 'step 1 again', (r) => r.status?.phase === 'Progressing' && r.status?.currentStep === 1);
    expect(retried.metadata.generation).toBe(generation);
    expect(await c.settled(ns, { v1: 70, v2: 30 })).toEqual({ v1: 70, v2: 30 });
    expect((await c.eventsWith(ns, ['Aborted', 'Retried'])).map((e) => e.reason)).toEqual(expect.arrayContaining(['Aborted', 'Retried']));
  }, 30_000);

  it('re-applies its weights when someone else rewrites them mid-release', async () => {
    const ns = await c.namespace('drift');
    await c.bookinfo(ns);
    await c.createRelease(ns, spec({ steps: [{ weight: 40, duration: '10m' }, { weight: 100 }] }));
    await waitForRelease(c, ns, 'step 1', (r) => r.status?.currentStep === 1);
    await waitFor('40% applied', async () => (await c.weights(ns)).v2 === 40);
    // What a GitOps sync of the original manifest does.
    await c.patchVirtualService(ns, [
      { op: 'replace', path: '/spec/http/1/route/0/weight', value: 100 },
      { op: 'replace', path: '/spec/http/1/route/1/weight', value: 0 },
    ]);
    await waitFor('weights re-applied', async () => {
      const w = await c.weights(ns);
      return w.v1 === 60 && w.v2 === 40;
    });
    const drift = await waitFor('TrafficDrift event', async () => (await c.events(ns)).find((e) => e.reason === 'TrafficDrift'));
    expect(drift.type).toBe('Warning');
    expect(drift.message).toContain('v1 100%');
  }, 30_000);

  it('waits for the canary workload before sending it traffic, and fails clearly at the deadline', async () => {
    const ns = await c.namespace('notready');
    await c.bookinfo(ns, { unavailable: ['v2'] });
    await c.createRelease(ns, spec({ canaryReadyTimeout: '3s', steps: [{ weight: 10, duration: '1s' }, { weight: 100 }] }));
    const waiting = await waitForRelease(c, ns, 'waiting', (r) => condition(r, 'CanaryAvailable')?.status === 'False');
    expect(waiting.status?.message).toContain('Waiting for the canary workload');
    expect(await c.settled(ns, { v1: 100 })).toEqual({ v1: 100 });
    const failed = await waitForRelease(c, ns, 'Failed', (r) => r.status?.phase === 'Failed', 15_000);
    expect(failed.status?.message).toContain('Not available within 3s');
    expect(await c.settled(ns, { v1: 100 })).toEqual({ v1: 100 });

    // Once the canary is available, a retry runs the release.
    await c.setAvailable(ns, 'reviews-v2', true);
    await c.annotate(ns, 'canary-operator.dev/retry', 'after-fix');
    await waitForRelease(c, ns, 'Succeeded after retry', (r) => r.status?.phase === 'Succeeded');
  }, 40_000);

  it('returns traffic to stable when deleted mid-release, and leaves a finished one alone', async () => {
    const ns = await c.namespace('delete');
    await c.bookinfo(ns);
    await c.createRelease(ns, spec({ steps: [{ weight: 50, duration: '10m' }, { weight: 100 }] }));
    await waitFor('50%', async () => (await c.weights(ns)).v2 === 50);
    await c.deleteRelease(ns);
    await waitFor('release gone', async () => (await c.release(ns)) === undefined);
    expect(await c.settled(ns, { v1: 100, v2: 0 })).toEqual({ v1: 100, v2: 0 });

    await c.createRelease(ns, spec({ stepWeight: 50, stepDuration: '1s' }), 'finished');
    await waitForRelease(c, ns, 'Succeeded', (r) => r.status?.phase === 'Succeeded', 30_000, 'finished');
    await c.deleteRelease(ns, 'finished');
    await waitFor('finished release gone', async () => (await c.release(ns, 'finished')) === undefined);
    expect(await c.settled(ns, { v1: 0, v2: 100 })).toEqual({ v1: 0, v2: 100 });
  }, 40_000);

  it('starts the next release from git by changing the subsets', async () => {
    const ns = await c.namespace('next');
    await c.bookinfo(ns);
    await c.createRelease(ns, spec({ stepWeight: 50, stepDuration: '1s' }));
    await waitForRelease(c, ns, 'v2 Succeeded', (r) => r.status?.phase === 'Succeeded');
    await c.patchRelease(ns, { spec: { stable: { subset: 'v2' }, canary: { subset: 'v3' } } });
    const r = await waitForRelease(c, ns, 'v3 Succeeded', (x) => x.status?.phase === 'Succeeded' && x.status?.canarySubset === 'v3');
    expect(r.status?.stableSubset).toBe('v2');
    expect(await c.settled(ns, { v1: 0, v2: 0, v3: 100 })).toEqual({ v1: 0, v2: 0, v3: 100 });
  }, 40_000);

  it('shows its columns in kubectl get and its Events in kubectl describe', async () => {
    const ns = await c.namespace('kubectl');
    await c.bookinfo(ns);
    await c.createRelease(ns, spec({ steps: [{ weight: 25, duration: '10m' }, { weight: 100 }] }));
    await waitForRelease(c, ns, 'step 1', (r) => r.status?.currentStep === 1);
    const { stdout: table } = await kubectl('get', 'canaryreleases', '-A');
    const [header, ...rows] = table.trim().split('\n');
    expect(header?.split(/\s{2,}/)).toEqual(expect.arrayContaining(['NAMESPACE', 'NAME', 'PHASE', 'WEIGHT', 'STEP', 'STABLE', 'CANARY', 'MESSAGE', 'AGE']));
    expect(rows.find((l) => l.startsWith(ns))).toMatch(/reviews\s+Progressing\s+25\s+1\s+v1\s+v2\s+step 1\/2 at 25%/);
    const { stdout: described } = await kubectl('describe', '-n', ns, 'crel/reviews');
    expect(described).toMatch(/Normal\s+(Started|StepAdvanced)\s+.*Step 1\/2: 25% of traffic to v2/);
  }, 30_000);
});
