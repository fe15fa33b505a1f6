/**
 * DataLoader helpers. Loaders are made per request (never shared across requests
 * or sandboxes); each batch is one `$in` query; results come back in key order,
 * with null for a key that matched nothing.
 */
import DataLoader from 'dataloader';

/** Largest batch sent as one `$in` query. */
export const MAX_BATCH_SIZE = 1000;

export function createByIdLoader<T>(
  fetchByIds: (ids: readonly string[]) => Promise<readonly T[]>,
  idOf: (item: T) => string,
): DataLoader<string, T | null> {
  return new DataLoader<string, T | null>(
    async (ids) => {
      const found = new Map<string, T>();
      for (const item of await fetchByIds(ids)) found.set(idOf(item), item);
      return ids.map((id) => found.get(id) ?? null);
    },
    { maxBatchSize: MAX_BATCH_SIZE },
  );
}

/** One-to-many: every key gets an array (empty when nothing matched), in key order. */
export function createGroupLoader<T>(
  fetchByKeys: (keys: readonly string[]) => Promise<readonly T[]>,
  keyOf: (item: T) => string,
): DataLoader<string, T[]> {
  return new DataLoader<string, T[]>(
    async (keys) => {
      const groups = new Map<string, T[]>();
      for (const item of await fetchByKeys(keys)) {
        const key = keyOf(item);
        const group = groups.get(key);
        if (group) group.push(item);
        else groups.set(key, [item]);
      }
      return keys.map((key) => groups.get(key) ?? []);
    },
    { maxBatchSize: MAX_BATCH_SIZE },
  );
}
