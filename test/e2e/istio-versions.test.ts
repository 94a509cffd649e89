// VirtualServices served as v1, v1beta1 or v1alpha3: the operator speaks the
// version it is given (or discovers), and the weights land the same.
import { describe, expect, it } from '@jest/globals';
import { startOperator } from './support/operator-process.js';
import { Cluster, waitForRelease } from './support/cluster.js';

const c = new Cluster();

describe.each(['v1beta1', 'v1alpha3'])('VirtualService through networking.istio.io/%s', (version) => {
  it('walks a release to Succeeded', async () => {
    const ns = await c.namespace(`istio-${version}`);
    await c.bookinfo(ns);
    const op = startOperator({ ISTIO_API_VERSION: version });
    await op.ready();
    expect(op.logs.some((l) => l.includes(`"provider":"istio","version":"${version}"`))).toBe(true);
    await c.createRelease(ns, {
      service: 'reviews', virtualService: { name: 'reviews' }, destinationRule: { name: 'reviews' },
      stable: { subset: 'v1' }, canary: { subset: 'v2' }, stepWeight: 50, stepDuration: '1s',
    });
    await waitForRelease(c, ns, 'Succeeded', (r) => r.status?.phase === 'Succeeded');
    const vs = await c.virtualService(ns, version);
    expect(vs.spec.http[1]?.route.map((d) => [d.destination.subset, d.weight])).toEqual([['v1', 0], ['v2', 100]]);
    expect(await op.kill('SIGTERM')).toBe(0);
  }, 40_000);
});

describe('discovery', () => {
  it('picks v1 when the cluster serves it', async () => {
    const op = startOperator();
    await op.ready();
    expect(op.logs.some((l) => l.includes('"provider":"istio","version":"v1"'))).toBe(true);
    await op.kill('SIGTERM');
  }, 30_000);
});
