/**
 * Batches of person records in flight in this process, per sandbox. A batch
 * waits for the earlier ones that share an identity or a fragment with it, and
 * for a free place when `maxRunning` are running; otherwise it starts at once.
 *
 * Correctness never rests on this queue: profiles are versioned, and a batch
 * that lost a race to another writer (in this process or another one) is
 * re-read and re-applied. The queue keeps the common collisions, such as an
 * import's consecutive batches or two requests about one person, from costing
 * those retries, while batches about different people write side by side.
 */
export interface BatchQueue {
  run<T>(sandbox: string, keys: ReadonlySet<string>, work: () => Promise<T>): Promise<T>;
}

interface Running {
  keys: ReadonlySet<string>;
  settled: Promise<unknown>;
}

function sharesKey(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  for (const key of small) if (large.has(key)) return true;
  return false;
}

export function createBatchQueue(maxRunning: number): BatchQueue {
  const bySandbox = new Map<string, Running[]>();

  return {
    async run(sandbox, keys, work) {
      const earlier = bySandbox.get(sandbox) ?? [];
      const waitFor = earlier.filter((entry) => sharesKey(entry.keys, keys));
      // Beyond the cap, the oldest earlier batches are waited for too.
      const excess = earlier.length + 1 - maxRunning;
      for (const entry of earlier.slice(0, Math.max(0, excess))) if (!waitFor.includes(entry)) waitFor.push(entry);

      const result = Promise.all(waitFor.map((entry) => entry.settled)).then(work);
      const entry: Running = { keys, settled: result.catch(() => undefined) };
      bySandbox.set(sandbox, [...earlier, entry]);
      void entry.settled.then(() => {
        const remaining = (bySandbox.get(sandbox) ?? []).filter((other) => other !== entry);
        if (remaining.length > 0) bySandbox.set(sandbox, remaining);
        else bySandbox.delete(sandbox);
      });
      return result;
    },
  };
}
