/**
 * The per-key rate limit counts locally and settles with MongoDB in batches;
 * gateway processes on one database share each key's budget. Settlement is
 * driven explicitly (flushIntervalMs: 0) and time by an injected clock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db, MongoClient } from 'mongodb';
import { createMongoRateLimiter, type RateDecision, type SharedRateLimiter } from '../../lib/tenancy/rateLimiter.js';
import { connectTestClient, uniqueName } from '../support/mongo.js';

const BUDGET = 10;

describe('per-key rate limiter shared through MongoDB', () => {
  let client: MongoClient;
  let db: Db;
  // In the future: the windows' documents expire by this clock, and the database's TTL monitor reads the real one.
  let clock = Date.parse('2099-03-01T10:00:05Z');
  const now = () => clock;
  const limiter = (requestsPerMinute = BUDGET) => createMongoRateLimiter(db, { requestsPerMinute, flushIntervalMs: 0, now });
  const consumeTimes = async (target: SharedRateLimiter, key: string, times: number): Promise<RateDecision[]> => {
    const decisions: RateDecision[] = [];
    for (let i = 0; i < times; i++) decisions.push(await target.consume(key));
    return decisions;
  };
  const admitted = (decisions: RateDecision[]) => decisions.filter((decision) => decision.allowed).length;

  beforeAll(async () => {
    client = await connectTestClient();
    db = client.db(uniqueName('ratelimit_'));
  });

  afterAll(async () => {
    await db.dropDatabase();
    await client.close();
  });

  it('holds the budget exactly in one process and answers when to retry', async () => {
    const one = await limiter();
    const decisions = await consumeTimes(one, 'key-exact', BUDGET + 2);
    expect(admitted(decisions)).toBe(BUDGET);
    // 55 s are left of the window that started at 10:00:00.
    expect(decisions.at(-1)).toEqual({ allowed: false, retryAfterSeconds: 55 });
    expect(await one.consume('key-other')).toEqual({ allowed: true });
    await one.close();
  });

  it('shares one budget between two processes once they have settled', async () => {
    const [a, b] = await Promise.all([limiter(), limiter()]);
    expect(admitted(await consumeTimes(a, 'key-shared', 6))).toBe(6);
    await a.flush();
    // b learns a's six when it settles its own first request.
    expect(admitted(await consumeTimes(b, 'key-shared', 1))).toBe(1);
    await b.flush();
    expect(admitted(await consumeTimes(b, 'key-shared', 10))).toBe(3);
    await b.flush();
    await a.flush();
    expect(admitted(await consumeTimes(a, 'key-shared', 5))).toBe(0);
    await Promise.all([a.close(), b.close()]);
  });

  it('goes over the budget by at most what another process admits before it settles', async () => {
    const [a, b] = await Promise.all([limiter(), limiter()]);
    // Neither has settled: each admits from its own view.
    expect(admitted(await consumeTimes(a, 'key-burst', 4))).toBe(4);
    expect(admitted(await consumeTimes(b, 'key-burst', 4))).toBe(4);
    await a.flush();
    await b.flush();
    // b knows the shared 8 and admits the 2 left; a, which settled before b, still sees 4 of its own.
    expect(admitted(await consumeTimes(b, 'key-burst', 5))).toBe(2);
    const unsettled = admitted(await consumeTimes(a, 'key-burst', 5));
    expect(4 + 4 + 2 + unsettled).toBeLessThanOrEqual(BUDGET + unsettled);
    // Once both have settled, neither admits anything more in this window.
    await a.flush();
    await b.flush();
    expect(admitted(await consumeTimes(a, 'key-burst', 3))).toBe(0);
    expect(admitted(await consumeTimes(b, 'key-burst', 3))).toBe(0);
    await Promise.all([a.close(), b.close()]);
  });

  it('starts a fresh budget in the next window, in every process', async () => {
    const [a, b] = await Promise.all([limiter(2), limiter(2)]);
    expect(admitted(await consumeTimes(a, 'key-window', 3))).toBe(2);
    await a.flush();
    await b.consume('key-window');
    await b.flush();
    expect((await b.consume('key-window')).allowed).toBe(false);
    clock += 60_000;
    expect(admitted(await consumeTimes(a, 'key-window', 1))).toBe(1);
    expect(admitted(await consumeTimes(b, 'key-window', 3))).toBe(2);
    await Promise.all([a.close(), b.close()]);
  });
});
