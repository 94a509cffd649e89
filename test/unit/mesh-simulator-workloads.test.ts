// The mesh simulator picks a (service, subset)'s workloads from a label index
// built once per snapshot of a namespace; it must pick exactly what a scan of
// every Deployment would.
import { expect, test } from '@jest/globals';
import fc from 'fast-check';
import { resolveEndpoints, type DeploymentLike, type NamespaceObjects } from '../../tools/mesh-simulator/workloads.js';

const label = fc.record({
  app: fc.constantFrom('reviews', 'ratings', undefined),
  version: fc.constantFrom('v1', 'v2', 'v3', undefined),
  tier: fc.constantFrom('x', 'y', undefined),
});
const clean = (o: Record<string, string | undefined>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Record<string, string>;

const world = fc.record({
  deployments: fc.array(fc.record({ labels: label, available: fc.constantFrom(0, 1, 2) }), { maxLength: 30 }),
  selector: fc.option(label, { nil: undefined }),
  subsets: fc.array(fc.record({ name: fc.constantFrom('v1', 'v2', 'v3'), labels: label }), { maxLength: 3 }),
  service: fc.constantFrom('reviews', 'ratings'),
  subset: fc.constantFrom('v1', 'v2', 'v3', undefined),
});

test('the workloads of a service and subset are those every Deployment scanned would give, asked once or many times', () => {
  fc.assert(fc.property(world, (w) => {
    const deployments: DeploymentLike[] = w.deployments.map((d, i) => ({
      metadata: { name: `d-${String(i).padStart(2, '0')}` },
      spec: { replicas: 1, template: { metadata: { labels: clean(d.labels) } } },
      status: { availableReplicas: d.available },
    }));
    const objs: NamespaceObjects = {
      virtualServices: [], configMaps: [], deployments,
      destinationRules: [{ metadata: { name: 'dr' }, spec: { host: w.service, subsets: w.subsets.map((s) => ({ name: s.name, labels: clean(s.labels) })) } }],
      services: w.selector ? [{ metadata: { name: w.service }, spec: { selector: clean(w.selector) } }] : [],
    };
    const subsetLabels = w.subset === undefined ? {} : clean(w.subsets.find((s) => s.name === w.subset)?.labels ?? {});
    const want = { ...(w.selector ? clean(w.selector) : { app: w.service }), ...subsetLabels };
    const scanned = deployments
      .filter((d) => Object.entries(want).every(([k, v]) => d.spec?.template?.metadata?.labels?.[k] === v) && (d.status?.availableReplicas ?? 0) > 0)
      .map((d) => d.metadata?.name);
    const subsetDefined = w.subset === undefined || w.subsets.some((s) => s.name === w.subset);
    for (let i = 0; i < 2; i++) {
      const r = resolveEndpoints(objs, w.service, 'ns', w.subset);
      if (!subsetDefined) expect(r).toMatchObject({ ok: false, flags: 'NC' });
      else if (scanned.length === 0) expect(r).toMatchObject({ ok: false, flags: 'UH' });
      else expect(r.ok && r.endpoints.map((e) => e.deployment.metadata?.name)).toEqual(scanned);
    }
  }), { numRuns: 500, seed: 20261202 });
});
