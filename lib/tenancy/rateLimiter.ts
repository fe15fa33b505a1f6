/**
 * Per-API-key request rate: a fixed one-minute window per key, shared by every
 * gateway process through MongoDB, without a database round trip per request.
 *
 * Each process decides locally: a request is admitted while the key's count
 * (the shared total as last read, plus what this process admitted since) is
 * under the budget. Every `flushIntervalMs` the process settles: it adds what
 * it admitted to the key's window document (one unordered bulk upsert for
 * every key it saw) and reads the shared totals back (one query).
 *
 * Tolerance: within one process the budget is exact. With several processes, a
 * key may go over its budget by what the other processes admit for it before
 * their next settlement, so by at most about one flush interval of its traffic
 * on each other process (never more than the budget once per process). Windows
 * are aligned to the clock, so processes agree on them within their clock skew.
 */
import type { Collection, Db } from 'mongodb';
import type { Logger } from '../logger.js';

export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export interface RateLimiter {
  consume(key: string): Promise<RateDecision>;
}

export interface SharedRateLimiter extends RateLimiter {
  /** Settles the counts admitted since the last settlement with the shared totals. */
  flush(): Promise<void>;
  /** Stops the settlement timer after a last settlement. */
  close(): Promise<void>;
}

export interface MongoRateLimiterOptions {
  requestsPerMinute: number;
  /** How often counts are settled with MongoDB; 0 settles only when `flush()` is called. @default 250 */
  flushIntervalMs?: number;
  now?: () => number;
  logger?: Logger;
}

export const RATE_LIMIT_COLLECTION = 'rateLimitWindows';
const WINDOW_MS = 60_000;
/** Window documents outlive their window a little, so a late settlement still finds them. */
const EXPIRY_GRACE_MS = 60_000;

interface WindowDocument {
  _id: string;
  count: number;
  expireAt: Date;
}

interface KeyWindow {
  key: string;
  windowStart: number;
  /** The shared total at the last settlement (this process's settled requests included). */
  settled: number;
  /** Admitted here since the last settlement. */
  pending: number;
}

export async function createMongoRateLimiter(platformDb: Db, options: MongoRateLimiterOptions): Promise<SharedRateLimiter> {
  const collection = platformDb.collection<WindowDocument>(RATE_LIMIT_COLLECTION);
  await collection.createIndex({ expireAt: 1 }, { expireAfterSeconds: 0, name: 'expire_ttl' });
  const limiter = new BatchedRateLimiter(collection, options);
  const intervalMs = options.flushIntervalMs ?? 250;
  if (intervalMs > 0) limiter.startTimer(intervalMs);
  return limiter;
}

class BatchedRateLimiter implements SharedRateLimiter {
  private readonly windows = new Map<string, KeyWindow>();
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private settling: Promise<void> | undefined;

  constructor(
    private readonly collection: Collection<WindowDocument>,
    private readonly options: MongoRateLimiterOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  startTimer(intervalMs: number): void {
    this.timer = setInterval(() => {
      this.flush().catch((error: unknown) => this.options.logger?.error({ err: error }, 'Rate-limit settlement failed'));
    }, intervalMs);
    // Settlement never keeps a process alive on its own.
    this.timer.unref();
  }

  async consume(key: string): Promise<RateDecision> {
    const now = this.now();
    const windowStart = now - (now % WINDOW_MS);
    let window = this.windows.get(key);
    if (!window || window.windowStart !== windowStart) {
      window = { key, windowStart, settled: 0, pending: 0 };
      this.windows.set(key, window);
    }
    if (window.settled + window.pending >= this.options.requestsPerMinute) {
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((windowStart + WINDOW_MS - now) / 1000)) };
    }
    window.pending += 1;
    return { allowed: true };
  }

  flush(): Promise<void> {
    // One settlement at a time; a call during one settles what came after it, once it ends.
    const run = (this.settling ?? Promise.resolve()).then(() => this.settle());
    this.settling = run.catch(() => {});
    return run;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  private async settle(): Promise<void> {
    const now = this.now();
    const currentWindow = now - (now % WINDOW_MS);
    // Written: what was admitted here since the last settlement. Read back: those, and every key of
    // the current window not yet over budget, so this process also learns what the others admitted.
    const entries: Array<{ window: KeyWindow; count: number; id: string }> = [];
    for (const [key, window] of this.windows) {
      const current = window.windowStart === currentWindow;
      if (!current && window.pending === 0) {
        this.windows.delete(key);
      } else if (window.pending > 0 || window.settled < this.options.requestsPerMinute) {
        entries.push({ window, count: window.pending, id: windowId(key, window.windowStart) });
      }
    }
    if (entries.length === 0) return;
    const writes = entries.filter((entry) => entry.count > 0);
    try {
      if (writes.length > 0) {
        await this.collection.bulkWrite(
          writes.map(({ window, count, id }) => ({
            updateOne: {
              filter: { _id: id },
              update: { $inc: { count }, $setOnInsert: { expireAt: new Date(window.windowStart + WINDOW_MS + EXPIRY_GRACE_MS) } },
              upsert: true,
            },
          })),
          { ordered: false },
        );
      }
    } catch (error) {
      // Counts stay pending and are settled next time; meanwhile each process still holds its own budget.
      this.options.logger?.warn({ err: error }, 'Could not settle rate-limit counts with MongoDB; will retry');
      return;
    }
    for (const entry of writes) entry.window.pending -= entry.count;
    let totals: Map<string, number> | undefined;
    try {
      const documents = await this.collection.find({ _id: { $in: entries.map((entry) => entry.id) } }, { projection: { count: 1 } }).toArray();
      totals = new Map(documents.map((document) => [document._id, document.count]));
    } catch (error) {
      this.options.logger?.warn({ err: error }, 'Could not read shared rate-limit counts from MongoDB; will retry');
    }
    for (const { window, count, id } of entries) {
      // Without a fresh total, what this process added still counts against the key.
      window.settled = Math.max(totals?.get(id) ?? 0, window.settled + count);
    }
  }
}

function windowId(key: string, windowStart: number): string {
  return `${key}@${windowStart}`;
}
