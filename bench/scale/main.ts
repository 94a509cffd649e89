// npm run bench:scale -- [--quick] [--n 10,100,1000] [--env WORKERS=8] ...
// Runs N releases at once against the real operator on a fresh control plane
// for each N, and prints memory, CPU, API requests, Prometheus queries and
// lags beside their goals (see options.ts for every flag).
import { execFileSync } from 'node:child_process';
import { relative } from 'node:path';
import { findPrometheusBinary } from '../../test/harness/prometheus.js';
import { projectRoot } from '../../test/harness/project-root.js';
import { computeFigures } from './figures.js';
import { projectImageNodeFlags, projectImageRuntimeEnv } from './image-runtime.js';
import { operatorScript } from './operator-process.js';
import { parseOptions, USAGE, type BenchOptions } from './options.js';
import { renderReport, type ReportContext, type ReportRun } from './report.js';
import { OPERATOR_USER, QUIET_SAMPLE_MS, RUN_METRICS_MS, runScenario } from './scenario.js';

const log = (line: string) => process.stderr.write(`[bench:scale ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: projectRoot(), encoding: 'utf8' }).trim();
  } catch {
    return '?';
  }
}

function context(opts: BenchOptions, serverVersion: string, traffic: string): ReportContext {
  let prometheusVersion = '?';
  try {
    prometheusVersion = /version (\S+)/.exec(execFileSync(findPrometheusBinary(), ['--version'], { encoding: 'utf8' }))?.[1] ?? '?';
  } catch {
    // Reported as unknown.
  }
  const overrides = Object.entries(opts.env).map(([k, v]) => `${k}=${v}`).join(' ');
  return {
    date: new Date().toISOString().slice(0, 10),
    mainCommit: git(['rev-parse', '--short', git(['merge-base', 'HEAD', 'main'])]),
    branch: git(['rev-parse', '--abbrev-ref', 'HEAD']),
    branchCommit: `${git(['rev-parse', '--short', 'HEAD'])}${git(['status', '--porcelain', '--untracked-files=no']) ? ' + uncommitted changes' : ''}`,
    serverVersion,
    prometheusVersion,
    traffic,
    scrape: `scrape every ${opts.scrapeIntervalSeconds} s; per-query figures from Prometheus' query log (its own stats: execTotalTime, totalQueryableSamples, as stats=all returns)`,
    releases:
      `over ${opts.namespaces} namespaces, created at once; steps 10% 30s / 50% 30s / 100; gates every 30s over 30s windows: errors max 5%, p99 <= 500 ms, ` +
      `errors vs stable +1%; failureLimit ${opts.failureLimit}; every ${opts.badEvery}th canary answers 20% 503s`,
    operator: `${relative(projectRoot(), operatorScript(projectRoot(), opts.cpuProfile))} with the image's runtime settings (${[...Object.entries(projectImageRuntimeEnv(projectRoot())).map(([k, v]) => `${k}=${v}`), ...projectImageNodeFlags(projectRoot())].join(' ')}), its own client certificate (CN=${OPERATOR_USER}, O=system:masters), LOG_LEVEL=info, ${overrides ? `overrides: ${overrides}` : 'default settings (WORKERS=4, ANALYSIS_CONCURRENCY=8/2 per address)'}; ` +
      `TLS connections counted by a preloaded hook; RSS and CPU from /proc every second, its /metrics read every ${RUN_METRICS_MS / 1000} s while releases run (1 s, then ${QUIET_SAMPLE_MS / 1000} s when idle); idle period ${opts.idleSeconds} s`,
  };
}

async function main(): Promise<number> {
  let opts;
  try {
    opts = parseOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`bench:scale: ${(err as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (opts === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const runs: ReportRun[] = [];
  const failures: string[] = [];
  let ctx: ReportContext | undefined;
  for (const n of opts.counts) {
    const started = Date.now();
    log(`N=${n}: starting`);
    try {
      const data = await runScenario(n, opts, (line) => log(`N=${n}: ${line}`));
      ctx ??= context(opts, data.serverVersion, data.traffic);
      const figures = computeFigures(data);
      runs.push({ figures, ...(data.replay ? { replay: data.replay } : {}), ...(data.profile ? { profile: data.profile } : {}), ...(data.heap ? { heap: data.heap } : {}) });
      log(`N=${n}: done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    } catch (err) {
      // One count failing must not lose the others' figures.
      const why = err instanceof Error ? err.message : String(err);
      failures.push(`N=${n} failed after ${((Date.now() - started) / 1000).toFixed(0)} s: ${why}`);
      log(failures.at(-1)!);
    }
  }
  if (ctx) process.stdout.write(`${renderReport(ctx, runs)}\n`);
  for (const f of failures) process.stdout.write(`\n${f}\n`);
  return failures.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench:scale: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
