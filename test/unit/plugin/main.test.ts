// main() end to end with a fake cluster: what is printed, what is patched and
// the exit code of every command.
import { describe, expect, it } from '@jest/globals';
import { main } from '../../../src/plugin/main.js';
import type { ReleaseObject } from '../../../src/plugin/release-api.js';
import { FakeApi, FakeIo, events, progressing, withStatus } from './fixtures.js';

function run(argv: string[], api: FakeApi, io = new FakeIo(), signal?: AbortSignal) {
  const seen: { namespace?: string } = {};
  const result = main(argv, {
    io,
    ...(signal ? { signal } : {}),
    connect: (args) => {
      seen.namespace = args.namespace;
      return { api, namespace: args.namespace ?? 'bookinfo' };
    },
  });
  return { result, io, seen };
}

const notFound = () => Object.assign(new Error('HTTP-Code: 404'), { code: 404, body: '{"kind":"Status","reason":"NotFound","details":{"name":"reviews"}}' });

describe('kubectl canary', () => {
  it('prints usage for --help (exit 0) and a hint for a bad command line (exit 2)', async () => {
    const help = run(['--help'], new FakeApi());
    expect(await help.result).toBe(0);
    expect(help.io.out_).toContain('Usage:');
    expect(help.io.out_).toContain('spec.paused, which is a spec field: with GitOps auto-sync the');
    const bad = run(['stauts', 'reviews'], new FakeApi());
    expect(await bad.result).toBe(2);
    expect(bad.io.err_).toBe('error: unknown command "stauts"\nSee \'kubectl canary --help\' for usage.');
  });

  it('status prints the release with its Events', async () => {
    const api = new FakeApi(progressing());
    api.eventList = events();
    const { result, io } = run(['status', 'reviews', '-n', 'bookinfo'], api);
    expect(await result).toBe(0);
    expect(io.out_).toContain('CanaryRelease bookinfo/reviews');
    expect(io.out_).toContain('TrafficDrift');
  });

  it('names the release and namespace when it does not exist (exit 2)', async () => {
    const { result, io } = run(['status', 'ratings', '-n', 'shop'], new FakeApi(progressing()));
    expect(await result).toBe(2);
    expect(io.err_).toBe('error: canaryrelease ratings not found in namespace shop');
  });

  it('says the CRD is missing when the API group is not served', async () => {
    const api = new FakeApi(Object.assign(new Error('HTTP-Code: 404'), { code: 404, body: '404 page not found\n' }));
    const { result, io } = run(['list'], api);
    expect(await result).toBe(2);
    expect(io.err_).toContain('is the canary-operator CRD installed?');
  });

  it('sends exactly one merge patch per action', async () => {
    for (const action of ['pause', 'promote', 'abort']) {
      const api = new FakeApi(progressing());
      const { result, io } = run([action, 'reviews'], api);
      expect(await result).toBe(0);
      expect(api.patches).toHaveLength(1);
      expect(api.patches[0]).toMatchObject({ namespace: 'bookinfo', name: 'reviews' });
      expect(io.out_).toMatch(/^canaryrelease bookinfo\/reviews: /);
    }
    const retry = new FakeApi(withStatus({ phase: 'RolledBack' }));
    await run(['retry', 'reviews'], retry).result;
    expect(Object.keys((retry.patches[0]?.body.metadata as { annotations: object }).annotations)).toEqual(['canary-operator.dev/retry']);
  });

  it('resume after an analysis pause sets the resume annotation', async () => {
    const api = new FakeApi(withStatus({ phase: 'Paused', pausedBy: 'analysis' }));
    const { result, io } = run(['resume', 'reviews'], api);
    expect(await result).toBe(0);
    expect(api.patches[0]?.body).toEqual({ metadata: { annotations: { 'canary-operator.dev/resume': expect.any(String) } } });
    expect(io.out_).toContain('analysis paused this release');
  });

  it('reports a failed patch with the action, release and the server\'s reason (exit 2)', async () => {
    const api = new FakeApi(progressing());
    api.mergePatch = async () => {
      throw Object.assign(new Error('HTTP-Code: 403'), { code: 403, body: '{"kind":"Status","message":"canaryreleases.canary-operator.dev \\"reviews\\" is forbidden: User \\"dev\\" cannot patch resource"}' });
    };
    const { result, io } = run(['promote', 'reviews'], api);
    expect(await result).toBe(2);
    expect(io.err_).toBe('error: promote canaryrelease reviews in namespace bookinfo: forbidden (403): canaryreleases.canary-operator.dev "reviews" is forbidden: User "dev" cannot patch resource');
  });

  it('list prints a table, of one namespace or all', async () => {
    const other = withStatus({ phase: 'Succeeded' });
    other.metadata = { ...other.metadata, namespace: 'shop' };
    const api = new FakeApi(progressing(), other);
    const one = run(['list', '-n', 'bookinfo'], api);
    expect(await one.result).toBe(0);
    expect(one.io.out_.split('\n')).toHaveLength(2);
    const all = run(['list', '-A'], api);
    expect(await all.result).toBe(0);
    expect(all.io.out_.split('\n')).toHaveLength(3);
    expect(api.listed).toEqual([{ namespace: 'bookinfo' }, { namespace: undefined }]);
    const none = run(['list', '-n', 'empty'], api);
    expect(await none.result).toBe(0);
    expect(none.io.err_).toBe('No canaryreleases found in namespace empty.');
  });
});

describe('kubectl canary wait', () => {
  it('exits 0 once the release Succeeded, polling every second', async () => {
    const api = new FakeApi(progressing(), progressing(), withStatus({ phase: 'Succeeded', message: 'Promoted' }));
    const { result, io } = run(['wait', 'reviews'], api);
    expect(await result).toBe(0);
    expect(io.out_).toBe('canaryrelease bookinfo/reviews Succeeded: Promoted');
    expect(io.sleeps).toEqual([1000, 1000]);
  });

  it('exits 1 when it RolledBack or Failed, saying why', async () => {
    const { result, io } = run(['wait', 'reviews'], new FakeApi(withStatus({ phase: 'RolledBack', message: 'Aborted on request at 30%' })));
    expect(await result).toBe(1);
    expect(io.out_).toBe('canaryrelease bookinfo/reviews RolledBack: Aborted on request at 30%');
    expect(await run(['wait', 'reviews'], new FakeApi(withStatus({ phase: 'Failed' }))).result).toBe(1);
  });

  it('does not stop at a RolledBack phase while a retry request is pending', async () => {
    const before = withStatus({ phase: 'RolledBack', handledRequests: {} });
    before.metadata.annotations = { 'canary-operator.dev/retry': 'r1' };
    const after = withStatus({ phase: 'Succeeded', handledRequests: { retry: 'r1' } });
    after.metadata.annotations = { 'canary-operator.dev/retry': 'r1' };
    const { result } = run(['wait', 'reviews'], new FakeApi(before, before, after));
    expect(await result).toBe(0);
  });

  it('exits 2 at the timeout, saying where the release is', async () => {
    const { result, io } = run(['wait', 'reviews', '--timeout', '5s'], new FakeApi(progressing()));
    expect(await result).toBe(2);
    expect(io.sleeps.reduce((a, b) => a + b, 0)).toBe(5000);
    expect(io.err_).toBe(`timed out after 5s waiting for canaryrelease bookinfo/reviews to end; canaryrelease bookinfo/reviews is Progressing at step 2/3 (50% on v2): ${progressing().status?.message}`);
  });

  it('exits 2 at once when the release does not exist, and rides out transient server errors', async () => {
    const missing = run(['wait', 'nope'], new FakeApi(progressing()));
    expect(await missing.result).toBe(2);
    expect(missing.io.err_).toBe('error: canaryrelease nope not found in namespace bookinfo');
    expect(missing.io.sleeps).toEqual([]);

    const flaky = new FakeApi(Object.assign(new Error('HTTP-Code: 503'), { code: 503, body: 'overloaded' }), withStatus({ phase: 'Succeeded' }));
    const transient = run(['wait', 'reviews'], flaky);
    expect(await transient.result).toBe(0);
    expect(transient.io.err_).toBe('warning: get canaryrelease reviews in namespace bookinfo: 503: overloaded; retrying');
    expect(await run(['wait', 'reviews'], new FakeApi(notFound())).result).toBe(2);
  });
});

describe('kubectl canary watch', () => {
  it('--plain prints a line per change and each new Event once, then exits with the outcome', async () => {
    const step1 = withStatus({ currentStep: 1, canaryWeight: 10, message: 'Step 1/3' });
    const step2 = withStatus({ currentStep: 2, canaryWeight: 50, message: 'Step 2/3' });
    const rolledBack = withStatus({ phase: 'RolledBack', canaryWeight: 0, message: 'Aborted' });
    const api = new FakeApi(step1, step1, step2, rolledBack);
    const all = events();
    api.eventList = all.slice(1, 3);
    const io = new FakeIo();
    io.onSleep = () => {
      api.eventList = all;
    };
    const { result } = run(['watch', 'reviews', '--plain'], api, io);
    expect(await result).toBe(1);
    const out = io.stdout.map((l) => l.replace(/^\S+ +/, ''));
    expect(out).toEqual([
      expect.stringMatching(/^Progressing step 1\/3 +v1=90% v2=10%/),
      'event Normal Started: Release v1 -> v2 started',
      'event Normal StepAdvanced: Step 1/3: 10% of traffic to v2 for 1m (v1 gets 90%)',
      'event Normal StepAdvanced: Step 2/3: 50% of traffic to v2 for 2m (v1 gets 50%)',
      'event Warning TrafficDrift: Someone set v1=100 v2=0; re-applied 50%',
      expect.stringMatching(/^Progressing step 2\/3 +v1=50% v2=50%/),
      expect.stringMatching(/^RolledBack +step 2\/3 +v1=100% v2=0%/),
      'bookinfo/reviews RolledBack: Aborted',
    ]);
  });

  it('redraws the whole status on a terminal and stops on Ctrl-C with 130', async () => {
    const api = new FakeApi(progressing());
    const io = new FakeIo();
    io.isTTY = true;
    const controller = new AbortController();
    io.onSleep = (x) => {
      if (x.sleeps.length === 2) controller.abort();
    };
    const { result } = run(['watch', 'reviews'], api, io, controller.signal);
    expect(await result).toBe(130);
    expect(io.stdout).toHaveLength(2);
    expect(io.stdout[0]?.startsWith('\x1b[H\x1b[2JCanaryRelease bookinfo/reviews')).toBe(true);
    expect(io.stdout[0]).toContain('Ctrl-C stops');
  });

  it('ends at once for a release that already ended', async () => {
    const io = new FakeIo();
    const { result } = run(['watch', 'reviews', '--plain'], new FakeApi(withStatus({ phase: 'Succeeded' }) as ReleaseObject), io);
    expect(await result).toBe(0);
    expect(io.sleeps).toEqual([]);
  });
});
