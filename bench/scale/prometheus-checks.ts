// Prometheus as the benchmark sees it, without sending queries (so the query
// log holds only the operator's until the replay): the scrape target's state,
// and a replay of chosen queries with stats=all after the run.
export interface TargetState {
  health: string;
  lastScrape: number;
  lastScrapeDurationSeconds: number;
  lastError: string;
}

export async function targetState(prometheusUrl: string): Promise<TargetState | undefined> {
  const res = await fetch(`${prometheusUrl}/api/v1/targets?state=active`, { signal: AbortSignal.timeout(5000) });
  const body = (await res.json()) as { data?: { activeTargets?: { health: string; lastScrape: string; lastScrapeDuration: number; lastError: string }[] } };
  const t = body.data?.activeTargets?.[0];
  return t && { health: t.health, lastScrape: Date.parse(t.lastScrape), lastScrapeDurationSeconds: t.lastScrapeDuration, lastError: t.lastError };
}

/** Waits until the target was scraped successfully `scrapes` times in a row. */
export async function waitForScrapes(prometheusUrl: string, scrapes: number, timeoutMs: number): Promise<TargetState> {
  const deadline = Date.now() + timeoutMs;
  let seen = 0;
  let last = 0;
  let state: TargetState | undefined;
  while (Date.now() < deadline) {
    state = await targetState(prometheusUrl).catch(() => undefined);
    if (state && state.health === 'up' && state.lastScrape > last) {
      last = state.lastScrape;
      if (++seen >= scrapes) return state;
    } else if (state && state.health === 'down') seen = 0;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`Prometheus did not scrape the traffic source ${scrapes} times within ${timeoutMs} ms: ${JSON.stringify(state)}`);
}

export interface QueryStats {
  execMs: number;
  samples: number;
  series: number;
}

/** One instant query at `at` with stats=all: Prometheus' own timing and samples touched. */
export async function queryWithStats(prometheusUrl: string, query: string, at: number): Promise<QueryStats> {
  const res = await fetch(`${prometheusUrl}/api/v1/query`, {
    method: 'POST',
    body: new URLSearchParams({ query, time: (at / 1000).toFixed(3), stats: 'all' }),
    signal: AbortSignal.timeout(60_000),
  });
  const body = (await res.json()) as { status: string; error?: string; data?: { result?: unknown[]; stats?: { timings?: { execTotalTime?: number }; samples?: { totalQueryableSamples?: number } } } };
  if (body.status !== 'success') throw new Error(`query ${query}: ${body.error ?? res.status}`);
  return { execMs: (body.data?.stats?.timings?.execTotalTime ?? Number.NaN) * 1000, samples: body.data?.stats?.samples?.totalQueryableSamples ?? Number.NaN, series: body.data?.result?.length ?? 0 };
}
