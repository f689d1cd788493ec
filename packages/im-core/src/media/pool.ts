/**
 * Runs `task(0) … task(count - 1)` with at most `concurrency` at a time, in index order. The first
 * failure aborts the signal handed to the tasks still running (and starts no more), and is thrown once
 * every running task has settled, so that nothing is left half-done behind the caller's back.
 */
export async function runPool<T>(
  count: number,
  concurrency: number,
  task: (index: number, signal: AbortSignal) => Promise<T>,
  signal?: AbortSignal,
): Promise<T[]> {
  const stop = new AbortController();
  const combined = signal === undefined ? stop.signal : AbortSignal.any([signal, stop.signal]);
  const results = new Array<T>(count);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (failure === undefined && !combined.aborted && next < count) {
      const index = next++;
      try {
        results[index] = await task(index, combined);
      } catch (error) {
        if (failure === undefined) {
          failure = { error };
          stop.abort(error);
        }
      }
    }
  };
  const workers = Math.max(1, Math.min(concurrency, count));
  await Promise.all(Array.from({ length: workers }, worker));
  if (failure !== undefined) throw failure.error;
  signal?.throwIfAborted();
  return results;
}
