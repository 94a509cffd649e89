import { describe, expect, test } from '@jest/globals';
import { describeProblems, validateSpec, type FieldProblem } from '../../src/api/validate.js';
import { baseSpec } from './release-fixtures.js';

function problems(raw: unknown): FieldProblem[] {
  const v = validateSpec(raw);
  if (v.ok) throw new Error('expected the spec to be invalid');
  return v.problems;
}
const fields = (raw: unknown) => problems(raw).map((p) => p.field);
const problemAt = (raw: unknown, field: string) => problems(raw).find((p) => p.field === field)?.problem;

describe('validateSpec: a valid spec', () => {
  test('is accepted and returned typed', () => {
    const v = validateSpec(baseSpec());
    expect(v).toEqual({
      ok: true,
      spec: baseSpec(),
      route: {
        ref: { provider: 'istio', kind: 'VirtualService', name: 'reviews', scope: { service: 'reviews' }, uses: { destinationRule: 'reviews' } },
        stable: 'v1',
        canary: 'v2',
      },
    });
  });

  test('with the shorthand instead of steps is accepted', () => {
    const { steps: _steps, ...rest } = baseSpec();
    expect(validateSpec({ ...rest, stepWeight: 20, maxWeight: 60, stepDuration: '30s' }).ok).toBe(true);
  });

  test('with neither steps nor shorthand is accepted (default plan)', () => {
    const { steps: _steps, ...rest } = baseSpec();
    expect(validateSpec(rest).ok).toBe(true);
  });

  test('with named routes, paused and canaryReadyTimeout is accepted', () => {
    const spec = { ...baseSpec(), virtualService: { name: 'reviews', routes: ['primary', 'mobile'] }, paused: true, canaryReadyTimeout: '5m' };
    expect(validateSpec(spec).ok).toBe(true);
  });

  test('drops unknown fields rather than failing on them', () => {
    const v = validateSpec({ ...baseSpec(), somethingElse: 1 });
    expect(v.ok && 'somethingElse' in v.spec).toBe(false);
  });
});

describe('validateSpec: missing and wrongly typed fields map to spec paths', () => {
  test.each([undefined, null])('a %s spec is "spec: is required"', (raw) => {
    expect(problems(raw)).toEqual([{ field: 'spec', problem: 'is required' }]);
  });

  test.each([
    ['stable', 'spec.stable'],
    ['canary', 'spec.canary'],
  ])('a missing %s is "%s: is required"', (key, field) => {
    const spec: Record<string, unknown> = baseSpec();
    delete spec[key];
    expect(problems(spec)).toEqual([{ field, problem: 'is required' }]);
  });

  test.each([
    ['service', 'spec.service', 'is required with spec.virtualService (the mesh host whose traffic is split)'],
    ['destinationRule', 'spec.destinationRule', 'is required with spec.virtualService (it defines the subsets)'],
  ])('with a VirtualService, a missing %s is "%s: %s"', (key, field, problem) => {
    const spec: Record<string, unknown> = baseSpec();
    delete spec[key];
    expect(problems(spec)).toEqual([{ field, problem }]);
  });

  test('a spec naming no route says which routes it may name', () => {
    const { virtualService: _vs, ...spec } = baseSpec();
    expect(problems(spec)).toEqual([{ field: 'spec', problem: expect.stringMatching(/^names no route: set one of spec\.virtualService .*, or spec\.httpRoute /) }]);
  });

  test('a spec naming both a VirtualService and an HTTPRoute is refused at the second', () => {
    expect(problems({ ...baseSpec(), httpRoute: { name: 'reviews' } })).toEqual([
      { field: 'spec.httpRoute', problem: 'use one route: spec.virtualService or spec.httpRoute, not both' },
    ]);
  });

  test('missing nested names are reported at their own path', () => {
    const spec = { ...baseSpec(), virtualService: {}, destinationRule: {} };
    expect(fields(spec)).toEqual(['spec.virtualService.name', 'spec.destinationRule.name']);
    const noSubsets = { ...baseSpec(), stable: {}, canary: {} };
    expect(fields(noSubsets)).toEqual(['spec.stable.subset', 'spec.canary.subset']);
    expect(problemAt(noSubsets, 'spec.stable.subset')).toBe('is required with spec.virtualService (a DestinationRule subset)');
  });

  test('a missing step weight is spec.steps[1].weight: is required', () => {
    const spec = { ...baseSpec(), steps: [{ weight: 10 }, { duration: '1m' }, { weight: 100 }] };
    expect(problems(spec)).toEqual([{ field: 'spec.steps[1].weight', problem: 'is required' }]);
  });

  test('a step weight of the wrong type says it must be a number, not that it is missing', () => {
    const spec = { ...baseSpec(), steps: [{ weight: '10' }, { weight: 100 }] };
    expect(problems(spec)).toEqual([{ field: 'spec.steps[0].weight', problem: 'must be a number' }]);
  });

  test('a service of the wrong type names the kind of string it must be', () => {
    expect(problemAt({ ...baseSpec(), service: 42 }, 'spec.service')).toBe('must be a string (a Service name)');
  });

  test('paused of the wrong type must be true or false', () => {
    expect(problemAt({ ...baseSpec(), paused: 'yes' }, 'spec.paused')).toBe('must be true or false');
  });

  test('a duration of the wrong type asks for a duration string', () => {
    expect(problemAt({ ...baseSpec(), canaryReadyTimeout: 30 }, 'spec.canaryReadyTimeout')).toMatch(/duration string/);
  });

  test('several problems are all reported, each at its own path', () => {
    const spec = { ...baseSpec(), service: 'Reviews', steps: [{ weight: 0 }, { weight: 100.5 }] };
    expect(fields(spec)).toEqual(['spec.service', 'spec.steps[0].weight', 'spec.steps[1].weight']);
  });
});

describe('validateSpec: per-field rules', () => {
  test.each([
    [{ service: '' }, 'spec.service', 'must not be empty'],
    [{ service: 'Reviews' }, 'spec.service', 'DNS-1123 label'],
    [{ service: 'reviews-' }, 'spec.service', 'DNS-1123 label'],
    [{ service: 'r'.repeat(64) }, 'spec.service', 'at most 63 characters'],
    [{ virtualService: { name: '' } }, 'spec.virtualService.name', 'must not be empty'],
    [{ virtualService: { name: 'Reviews_VS' } }, 'spec.virtualService.name', 'DNS-1123 subdomain'],
    [{ virtualService: { name: 'a'.repeat(254) } }, 'spec.virtualService.name', 'at most 253 characters'],
    [{ virtualService: { name: 'reviews', routes: [] } }, 'spec.virtualService.routes', 'at least one route'],
    [{ virtualService: { name: 'reviews', routes: [''] } }, 'spec.virtualService.routes[0]', 'must not be empty'],
    [{ destinationRule: { name: 'reviews..dr' } }, 'spec.destinationRule.name', 'DNS-1123 subdomain'],
    [{ stable: { subset: 'V1' } }, 'spec.stable.subset', 'DNS-1123 label'],
    [{ canary: { subset: '-v2' } }, 'spec.canary.subset', 'DNS-1123 label'],
    [{ steps: [] }, 'spec.steps', 'at least one step'],
    [{ steps: Array.from({ length: 51 }, (_, i) => ({ weight: i + 1 })) }, 'spec.steps', 'at most 50 steps'],
    [{ steps: [{ weight: 0 }, { weight: 100 }] }, 'spec.steps[0].weight', 'at least 1'],
    [{ steps: [{ weight: 101 }] }, 'spec.steps[0].weight', 'at most 100'],
    [{ steps: [{ weight: 12.5 }, { weight: 100 }] }, 'spec.steps[0].weight', 'whole number'],
    [{ steps: [{ weight: 10, duration: '1d' }, { weight: 100 }] }, 'spec.steps[0].duration', 'units ms, s, m, h'],
    [{ steps: [{ weight: 10, duration: '10' }, { weight: 100 }] }, 'spec.steps[0].duration', 'units ms, s, m, h'],
    [{ steps: undefined, stepWeight: 100 }, 'spec.stepWeight', 'at most 99'],
    [{ steps: undefined, stepWeight: 0 }, 'spec.stepWeight', 'at least 1'],
    [{ steps: undefined, stepWeight: 10, maxWeight: 101 }, 'spec.maxWeight', 'at most 100'],
    [{ steps: undefined, stepWeight: 10, stepDuration: 'soon' }, 'spec.stepDuration', 'duration'],
    [{ canaryReadyTimeout: '-5m' }, 'spec.canaryReadyTimeout', 'duration'],
  ])('%j is reported at %s (%s)', (patch, field, words) => {
    const spec = { ...baseSpec(), ...patch };
    const found = problemAt(spec, field);
    expect(found).toBeDefined();
    expect(found).toContain(words);
  });
});

describe('validateSpec: cross-field rules', () => {
  test('the canary subset must differ from the stable subset', () => {
    const spec = { ...baseSpec(), canary: { subset: 'v1' } };
    expect(problems(spec)).toEqual([{ field: 'spec.canary.subset', problem: 'must differ from spec.stable.subset (both are "v1")' }]);
  });

  test.each([{ stepWeight: 10 }, { maxWeight: 50 }, { stepDuration: '1m' }])('steps together with the shorthand %j is reported at spec.steps', (patch) => {
    expect(problemAt({ ...baseSpec(), ...patch }, 'spec.steps')).toContain('not both');
  });

  test.each([{ maxWeight: 50 }, { stepDuration: '30s' }])('%j without stepWeight requires spec.stepWeight', (patch) => {
    const { steps: _steps, ...rest } = baseSpec();
    expect(problems({ ...rest, ...patch })).toEqual([{ field: 'spec.stepWeight', problem: 'is required when maxWeight or stepDuration is set' }]);
  });

  test('maxWeight below stepWeight is reported at spec.maxWeight', () => {
    const { steps: _steps, ...rest } = baseSpec();
    expect(problems({ ...rest, stepWeight: 30, maxWeight: 20 })).toEqual([{ field: 'spec.maxWeight', problem: 'must be at least spec.stepWeight (30)' }]);
  });

  test('maxWeight equal to stepWeight is fine', () => {
    const { steps: _steps, ...rest } = baseSpec();
    expect(validateSpec({ ...rest, stepWeight: 30, maxWeight: 30 }).ok).toBe(true);
  });

  test('a step weight not above the previous one is reported at that step', () => {
    const spec = { ...baseSpec(), steps: [{ weight: 10 }, { weight: 10 }, { weight: 100 }] };
    expect(problems(spec)).toEqual([{ field: 'spec.steps[1].weight', problem: "must be greater than the previous step's weight (10); weights only go up" }]);
  });

  test('a decreasing weight is reported at the step that goes down', () => {
    const spec = { ...baseSpec(), steps: [{ weight: 10 }, { weight: 50 }, { weight: 20 }, { weight: 100 }] };
    expect(fields(spec)).toEqual(['spec.steps[2].weight']);
  });

  test('100 anywhere but the last step is reported at that step', () => {
    const spec = { ...baseSpec(), steps: [{ weight: 10 }, { weight: 100 }, { weight: 100 }] };
    const p = problems(spec);
    expect(p).toContainEqual({ field: 'spec.steps[1].weight', problem: '100 promotes the canary, so it can only be the last step' });
    // the last one is not "100 before the end", but it does not go up either
    expect(p).toContainEqual(expect.objectContaining({ field: 'spec.steps[2].weight', problem: expect.stringContaining('greater than') }));
  });

  test('a duration on the 100% step is reported at its duration', () => {
    const spec = { ...baseSpec(), steps: [{ weight: 10 }, { weight: 100, duration: '1m' }] };
    expect(problems(spec)).toEqual([{ field: 'spec.steps[1].duration', problem: 'the 100% step promotes at once and takes no duration' }]);
  });

  test('a route named twice is reported at spec.virtualService.routes', () => {
    const spec = { ...baseSpec(), virtualService: { name: 'reviews', routes: ['primary', 'primary'] } };
    expect(problems(spec)).toEqual([{ field: 'spec.virtualService.routes', problem: 'names a route more than once' }]);
  });

  test('cross-field rules are checked only once every field is valid', () => {
    const spec = { ...baseSpec(), service: 'BAD', canary: { subset: 'v1' } };
    expect(fields(spec)).toEqual(['spec.service']);
  });
});

describe('describeProblems', () => {
  test('joins field: problem pairs with "; "', () => {
    expect(describeProblems([{ field: 'spec.a', problem: 'x' }, { field: 'spec.b', problem: 'y' }])).toBe('spec.a: x; spec.b: y');
  });
  test('is empty for no problems', () => {
    expect(describeProblems([])).toBe('');
  });
});

describe('validateSpec: a Gateway API release (spec.httpRoute)', () => {
  const gamma = () => ({ httpRoute: { name: 'reviews' }, stable: { service: 'reviews-v1' }, canary: { service: 'reviews-v2' }, steps: [{ weight: 10, duration: '1m' }, { weight: 100 }] });

  test('is accepted, with the backend Services as the versions', () => {
    const v = validateSpec(gamma());
    expect(v.ok && v.route).toEqual({ ref: { provider: 'gateway-api', kind: 'HTTPRoute', name: 'reviews', scope: {}, uses: {} }, stable: 'reviews-v1', canary: 'reviews-v2' });
  });

  test('needs a backend Service per version, not subsets, and no Istio fields', () => {
    expect(problems({ ...gamma(), stable: { subset: 'v1' }, service: 'reviews', destinationRule: { name: 'reviews' } })).toEqual([
      { field: 'spec.service', problem: "is not used with spec.httpRoute (the route's parentRefs name the Service); remove it" },
      { field: 'spec.destinationRule', problem: 'is not used with spec.httpRoute (versions are backend Services); remove it' },
      { field: 'spec.stable.service', problem: "is required with spec.httpRoute (the version's backend Service)" },
      { field: 'spec.stable.subset', problem: 'is not used with spec.httpRoute (name the backend Service instead); remove it' },
    ]);
  });

  test('refuses the same Service for both versions and a rule named twice', () => {
    expect(problems({ ...gamma(), canary: { service: 'reviews-v1' }, httpRoute: { name: 'reviews', rules: ['a', 'a'] } })).toEqual([
      { field: 'spec.canary.service', problem: 'must differ from spec.stable.service (both are "reviews-v1")' },
      { field: 'spec.httpRoute.rules', problem: 'names a rule more than once' },
    ]);
  });
});
