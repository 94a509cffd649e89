// Waiting for something that may hang, for a bounded time.

/** Resolves when `work` settles (fulfilled or rejected) or after `ms`, whichever comes first; never rejects. */
export function within(work: Promise<unknown>, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    work.then(done, done);
  });
}
