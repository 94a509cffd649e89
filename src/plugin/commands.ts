// The one-shot commands: status, list and the actions (pause, resume,
// promote, abort, retry), each an API read and at most one merge patch.
import type { CommandContext } from './context.js';
import { ExitCode } from './errors.js';
import type { ReleaseObject } from './release-api.js';
import { renderList } from './render-list.js';
import { renderStatus } from './render-status.js';
import { terminalSafe } from './terminal-text.js';
import { pausePlan, requestPlan, resumePlan, uniqueRequestValue, type ActionPlan } from './requests.js';

export type Action = 'pause' | 'resume' | 'promote' | 'abort' | 'retry';

export async function statusCommand(ctx: CommandContext, name: string): Promise<number> {
  const release = await ctx.api.get(ctx.namespace, name);
  const events = await ctx.api.events(release).catch((err: unknown) => {
    ctx.io.err(`warning: cannot list the Events of canaryrelease ${name}: ${terminalSafe(err instanceof Error ? err.message.split('\n')[0] ?? '' : String(err))}`);
    return [];
  });
  ctx.io.out(renderStatus(release, events, ctx.io.now()));
  return ExitCode.Ok;
}

export async function listCommand(ctx: CommandContext, allNamespaces: boolean): Promise<number> {
  const releases = await ctx.api.list(allNamespaces ? undefined : ctx.namespace);
  if (!releases.length) {
    ctx.io.err(allNamespaces ? 'No canaryreleases found.' : `No canaryreleases found in namespace ${ctx.namespace}.`);
    return ExitCode.Ok;
  }
  ctx.io.out(renderList(releases, ctx.io.now(), allNamespaces));
  return ExitCode.Ok;
}

export function planAction(action: Action, release: ReleaseObject, now: Date, random?: () => string): ActionPlan {
  const value = uniqueRequestValue(now, random);
  switch (action) {
    case 'pause':
      return pausePlan(release);
    case 'resume':
      return resumePlan(release, value);
    default:
      return requestPlan(action, release, value);
  }
}

export async function actionCommand(ctx: CommandContext, action: Action, name: string): Promise<number> {
  const release = await ctx.api.get(ctx.namespace, name);
  const plan = planAction(action, release, ctx.io.now());
  if (plan.patch) await ctx.api.mergePatch(ctx.namespace, name, plan.patch);
  ctx.io.out(`canaryrelease ${ctx.namespace}/${name}: ${plan.done}`);
  for (const note of plan.notes) ctx.io.err(`note: ${note}`);
  return ExitCode.Ok;
}
