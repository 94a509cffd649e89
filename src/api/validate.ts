// Turns a raw CanaryRelease spec into a typed one, or into problems that each
// name the field ("spec.steps[1].weight") and say what is wrong in plain words.
import type { z } from 'zod';
import type { ResolvedRoute } from '../core/plan.js';
import { ROUTE_SPECS } from '../traffic/route-spec-fields.js';
import { CanaryReleaseSpecSchema, RouteSpecSchema, type CanaryReleaseSpec } from './spec.js';
import { analysisProblems, type AnalysisContext } from './validate-analysis.js';

export interface FieldProblem {
  field: string;
  problem: string;
}
/** A valid spec, with its route as its traffic provider resolved it. */
export type SpecValidation = { ok: true; spec: CanaryReleaseSpec; route: ResolvedRoute } | { ok: false; problems: FieldProblem[] };

export function validateSpec(raw: unknown, ctx: AnalysisContext = {}): SpecValidation {
  if (raw === undefined || raw === null) return { ok: false, problems: [{ field: 'spec', problem: 'is required' }] };
  // reportInput keeps issue.input, which toProblem needs to tell "missing" from "wrong type".
  const parsed = CanaryReleaseSpecSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) return { ok: false, problems: parsed.error.issues.map(toProblem) };
  const route = routeOf(parsed.data);
  const problems = [...(route.ok ? [] : route.problems), ...crossFieldProblems(parsed.data), ...analysisProblems(parsed.data.analysis, ctx)];
  return problems.length || !route.ok ? { ok: false, problems } : { ok: true, spec: parsed.data, route: route.route };
}

/**
 * The route a raw spec names, read on its own (the rest of the spec may be
 * invalid): which objects a release refers to, so their changes reach it.
 */
export function specRoute(raw: unknown): ResolvedRoute | undefined {
  const parsed = RouteSpecSchema.safeParse(raw);
  if (!parsed.success) return undefined;
  const route = routeOf(parsed.data as CanaryReleaseSpec);
  return route.ok ? route.route : undefined;
}

/** Exactly one traffic provider's section names the route; that provider resolves it. */
function routeOf(spec: CanaryReleaseSpec): { ok: true; route: ResolvedRoute } | { ok: false; problems: FieldProblem[] } {
  const chosen = ROUTE_SPECS.filter((p) => spec[p.field] !== undefined);
  const [one, two] = chosen;
  if (!one) return { ok: false, problems: [{ field: 'spec', problem: `names no route: set one of ${ROUTE_SPECS.map((p) => p.example).join(', or ')}` }] };
  if (two) return { ok: false, problems: [{ field: `spec.${two.field}`, problem: `use one route: spec.${one.field} or spec.${two.field}, not both` }] };
  return one.resolve(spec);
}

export function describeProblems(problems: FieldProblem[]): string {
  return problems.map((p) => `${p.field}: ${p.problem}`).join('; ');
}

function crossFieldProblems(spec: CanaryReleaseSpec): FieldProblem[] {
  const out: FieldProblem[] = [];
  const shorthand = spec.stepWeight !== undefined || spec.maxWeight !== undefined || spec.stepDuration !== undefined;
  if (spec.steps && shorthand) {
    out.push({ field: 'spec.steps', problem: 'use either steps or the stepWeight/maxWeight/stepDuration shorthand, not both' });
  }
  if (!spec.steps && (spec.maxWeight !== undefined || spec.stepDuration !== undefined) && spec.stepWeight === undefined) {
    out.push({ field: 'spec.stepWeight', problem: 'is required when maxWeight or stepDuration is set' });
  }
  if (spec.stepWeight !== undefined && spec.maxWeight !== undefined && spec.maxWeight < spec.stepWeight) {
    out.push({ field: 'spec.maxWeight', problem: `must be at least spec.stepWeight (${spec.stepWeight})` });
  }
  spec.steps?.forEach((step, i) => {
    const prev = spec.steps?.[i - 1];
    if (prev && step.weight <= prev.weight) {
      out.push({ field: `spec.steps[${i}].weight`, problem: `must be greater than the previous step's weight (${prev.weight}); weights only go up` });
    }
    if (step.weight === 100 && i !== (spec.steps?.length ?? 0) - 1) {
      out.push({ field: `spec.steps[${i}].weight`, problem: '100 promotes the canary, so it can only be the last step' });
    }
    if (step.weight === 100 && step.duration !== undefined) {
      out.push({ field: `spec.steps[${i}].duration`, problem: 'the 100% step promotes at once and takes no duration' });
    }
  });
  return out;
}

function toProblem(issue: z.core.$ZodIssue): FieldProblem {
  let field = 'spec';
  for (const key of issue.path) field += typeof key === 'number' ? `[${key}]` : `.${String(key)}`;
  if (issue.code === 'invalid_type' && issue.input === undefined) return { field, problem: 'is required' };
  if (issue.code === 'unrecognized_keys') return { field, problem: issue.message };
  return { field, problem: issue.message };
}
