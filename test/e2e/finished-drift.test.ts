// After a release ends the operator does not fight over its route, but a
// re-sync that reverts it is visible: an Event, a condition and a metric.
import { describe, expect, it } from '@jest/globals';
import { operatorForSuite } from './support/suite.js';
import { Cluster, ISTIO, bookinfoVirtualServiceSpec, condition, waitFor, waitForRelease } from './support/cluster.js';

const c = new Cluster();
const operator = operatorForSuite();
const spec = {
  service: 'reviews',
  virtualService: { name: 'reviews' },
  destinationRule: { name: 'reviews' },
  stable: { subset: 'v1' },
  canary: { subset: 'v2' },
  steps: [{ weight: 50, duration: '1s' }, { weight: 100 }],
};

async function metric(name: string, labels: Record<string, string>): Promise<number | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${operator().port()}/metrics`)).text();
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && want.every((w) => l.includes(w)));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

describe('a finished release whose route is re-synced', () => {
  it('reports the drift (Event, RouteInSync condition, metric) and leaves the route alone', async () => {
    const ns = await c.namespace('drift-after');
    await c.bookinfo(ns);
    await c.createRelease(ns, spec);
    await waitForRelease(c, ns, 'Succeeded', (r) => r.status?.phase === 'Succeeded');
    expect(await c.settled(ns, { v1: 0, v2: 100 })).toEqual({ v1: 0, v2: 100 });

    // `kubectl apply` of the original VirtualService from git: all traffic back on v1.
    const vs = (await c.virtualService(ns)) as { metadata: Record<string, unknown>; spec: unknown };
    await c.custom.replaceNamespacedCustomObject({
      group: ISTIO, version: 'v1', namespace: ns, plural: 'virtualservices', name: 'reviews',
      body: { apiVersion: `${ISTIO}/v1`, kind: 'VirtualService', metadata: vs.metadata, spec: bookinfoVirtualServiceSpec() },
    });
    const r = await waitForRelease(c, ns, 'RouteInSync=False', (x) => condition(x, 'RouteInSync')?.status === 'False');
    expect(r.status?.phase).toBe('Succeeded');
    expect(condition(r, 'RouteInSync')?.reason).toBe('TrafficDrift');
    expect(condition(r, 'RouteInSync')?.message).toContain('v1 100%');
    expect(r.status?.message).toContain('changed after the release');
    const events = await c.eventsWith(ns, ['TrafficDrift']);
    expect(events.filter((e) => e.reason === 'TrafficDrift')).toHaveLength(1);
    expect(events.find((e) => e.reason === 'TrafficDrift')?.type).toBe('Warning');
    await waitFor('drift metric', async () => (await metric('canary_operator_route_drift', { namespace: ns, name: 'reviews' })) === 1);
    // No fight: the route keeps what was applied.
    await new Promise((res) => setTimeout(res, 3000));
    expect(await c.settled(ns, { v1: 100 })).toEqual({ v1: 100 });

    // Put back what the release left: in sync again.
    await c.patchVirtualService(ns, [
      { op: 'replace', path: '/spec/http/1/route/0/weight', value: 0 },
      { op: 'add', path: '/spec/http/1/route/-', value: { destination: { host: 'reviews', subset: 'v2' }, weight: 100 } },
    ]);
    await waitForRelease(c, ns, 'RouteInSync=True', (x) => condition(x, 'RouteInSync')?.status === 'True');
    await waitFor('drift metric cleared', async () => (await metric('canary_operator_route_drift', { namespace: ns, name: 'reviews' })) === 0);
  }, 60_000);
});
