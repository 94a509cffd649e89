// Runs fn over items with at most `concurrency` in flight; the first failure rejects.
export async function forEachLimited<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

/** Retries an API call that failed for a reason worth retrying (overload, timeouts), a few times. */
export async function retrying<T>(what: string, fn: () => Promise<T>, attempts = 4): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      const code = (err as { code?: number }).code;
      const transient = code === undefined || code === 429 || code >= 500;
      if (!transient || i >= attempts) throw new Error(`${what}: ${err instanceof Error ? err.message : String(err)}`);
      await new Promise((r) => setTimeout(r, 250 * 2 ** i));
    }
  }
}
