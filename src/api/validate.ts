// Turns a raw CanaryRelease spec into a typed one, or into problems that each
// name the field ("spec.steps[1].weight") and say what is wrong in plain words.
import type { z } from 'zod';
import { CanaryReleaseSpecSchema, type CanaryReleaseSpec } from './spec.js';
import { analysisProblems, type AnalysisContext } from './validate-analysis.js';

export interface FieldProblem {
  field: string;
  problem: string;
}
export type SpecValidation = { ok: true; spec: CanaryReleaseSpec } | { ok: false; problems: FieldProblem[] };

export function validateSpec(raw: unknown, ctx: AnalysisContext = {}): SpecValidation {
  if (raw === undefined || raw === null) return { ok: false, problems: [{ field: 'spec', problem: 'is required' }] };
  // reportInput keeps issue.input, which toProblem needs to tell "missing" from "wrong type".
  const parsed = CanaryReleaseSpecSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) return { ok: false, problems: parsed.error.issues.map(toProblem) };
  const problems = [...crossFieldProblems(parsed.data), ...analysisProblems(parsed.data.analysis, ctx)];
  return problems.length ? { ok: false, problems } : { ok: true, spec: parsed.data };
}

export function describeProblems(problems: FieldProblem[]): string {
  return problems.map((p) => `${p.field}: ${p.problem}`).join('; ');
}

function crossFieldProblems(spec: CanaryReleaseSpec): FieldProblem[] {
  const out: FieldProblem[] = [];
  if (spec.stable.subset === spec.canary.subset) {
    out.push({ field: 'spec.canary.subset', problem: `must differ from spec.stable.subset (both are "${spec.stable.subset}")` });
  }
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
  const routes = spec.virtualService.routes;
  if (routes && new Set(routes).size !== routes.length) {
    out.push({ field: 'spec.virtualService.routes', problem: 'names a route more than once' });
  }
  return out;
}

function toProblem(issue: z.core.$ZodIssue): FieldProblem {
  let field = 'spec';
  for (const key of issue.path) field += typeof key === 'number' ? `[${key}]` : `.${String(key)}`;
  if (issue.code === 'invalid_type' && issue.input === undefined) return { field, problem: 'is required' };
  if (issue.code === 'unrecognized_keys') return { field, problem: issue.message };
  return { field, problem: issue.message };
}
