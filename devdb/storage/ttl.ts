import { errorFields } from '../logger.js';
import type { Deployment } from './deployment.js';
import type { Rec } from './record.js';

/**
 * Deletes documents whose TTL index field (a date, or the earliest date in an array) is older than
 * expireAfterSeconds, like MongoDB's TTL monitor (which runs every 60 s; devdb defaults to 1 s).
 */
export function startTtlMonitor(deployment: Deployment, intervalMs: number): () => void {
  const sweep = (): void => {
    const now = deployment.now();
    for (const coll of deployment.allCollections()) {
      for (const index of coll.indexes) {
        const seconds = index.spec.expireAfterSeconds;
        if (seconds === undefined || !index.usable) continue;
        const field = index.fields[0];
        const expired: Rec[] = [];
        // Walk the index's dates up to the cutoff (dates only: other types never expire).
        const cutoff = { value: new Date(now - seconds * 1000), inclusive: true };
        for (const rec of index.range(undefined, cutoff)) {
          const at = expiry(rec.doc[field] ?? getDotted(rec.doc, field));
          if (at !== undefined && at + seconds * 1000 <= now) expired.push(rec);
        }
        for (const rec of expired) if (coll.getById(rec.doc._id) === rec) coll.delete(rec);
        if (expired.length > 0) deployment.log.info({ ns: coll.ns, index: index.name, removed: expired.length }, 'TTL index removed expired documents');
      }
    }
  };
  const timer = setInterval(() => {
    try {
      sweep();
    } catch (err) {
      deployment.log.error(errorFields(err, true), 'TTL monitor failed');
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

function getDotted(doc: Record<string, unknown>, path: string): unknown {
  let cur: unknown = doc;
  for (const p of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

function expiry(v: unknown): number | undefined {
  if (v instanceof Date) return v.getTime();
  if (Array.isArray(v)) {
    const dates = v.filter((x): x is Date => x instanceof Date).map((d) => d.getTime());
    return dates.length > 0 ? Math.min(...dates) : undefined;
  }
  return undefined;
}
