import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../lib/logger.js';
import type { DeliveryMember } from '../../subgraphs/destination/connectors/connector.js';
import { createConnector } from '../../subgraphs/destination/connectors/createConnector.js';
import { MARKETO_LIMITS } from '../../subgraphs/destination/connectors/index.js';
import { startMarketoMock } from '../mocks/marketoMock.js';
import { batchOf, budgetDatabase, fakeClock, sharedBudget, virtualClock } from './support.js';

describe('the shared call budget in MongoDB', () => {
  let first: Awaited<ReturnType<typeof budgetDatabase>>;
  let second: Awaited<ReturnType<typeof budgetDatabase>>['client'];

  beforeAll(async () => {
    first = await budgetDatabase();
    // A second connection to the same database: another worker process.
    const { connectTestClient } = await import('../support/mongo.js');
    second = await connectTestClient();
  });
  afterAll(async () => {
    await second?.close();
    await first?.close();
  });

  it('holds at most callsPerWindow calls in any window, across processes, waiting out the window', async () => {
    const clock = fakeClock();
    const limits = { callsPerWindow: 3, windowMs: 20_000 };
    const one = sharedBudget(first.db, { now: clock.now, sleep: clock.sleep });
    const two = sharedBudget(second.db(first.name), { now: clock.now, sleep: clock.sleep });
    const start = clock.millis();
    for (const budget of [one, two, one]) await (await budget.acquire('window-key', limits)).release();
    expect(clock.sleeps).toEqual([]);
    const lease = await two.acquire('window-key', limits);
    // The fourth call waited until the first one's window had passed.
    expect(clock.millis() - start).toBeGreaterThanOrEqual(20_000);
    await lease.release();
  });

  it('holds at most maxConcurrent calls in flight; a slot whose process died frees itself when its lease ends', async () => {
    const clock = fakeClock();
    const limits = { callsPerWindow: 100, windowMs: 1000, maxConcurrent: 1 };
    const options = { now: clock.now, sleep: clock.sleep, leaseMs: 5_000, maxPollMs: 500 };
    const dead = sharedBudget(first.db, options);
    await dead.acquire('lease-key', limits); // never released: the process was killed mid-call
    const alive = sharedBudget(second.db(first.name), options);
    const before = clock.millis();
    const lease = await alive.acquire('lease-key', limits);
    expect(clock.millis() - before).toBeGreaterThanOrEqual(5_000);
    await lease.release();
  });

  it('fails retryably when no slot frees in time', async () => {
    const clock = fakeClock();
    const budget = sharedBudget(first.db, { now: clock.now, sleep: clock.sleep, maxWaitMs: 3_000, maxPollMs: 1_000 });
    const limits = { callsPerWindow: 1, windowMs: 60_000 };
    await (await budget.acquire('full-key', limits)).release();
    await expect(budget.acquire('full-key', limits)).rejects.toMatchObject({ code: 'BUDGET_EXHAUSTED', retryable: true });
  });

  it('keeps two processes sharing one Marketo instance within its limits at full speed: the mock never answers 606 or 615', async () => {
    // Marketo's own limits (100 calls in any 20 s, 10 in flight) on one clock that the mock, the budgets and the
    // connectors share and that moves only when they wait, so the windows are exact and nobody waits one out in real time.
    const clock = virtualClock();
    const startedAt = clock.millis();
    const limits = MARKETO_LIMITS;
    const PER_PROCESS = 120;
    const mock = await startMarketoMock({ now: clock.millis, callsPerWindow: limits.callsPerWindow, windowMs: limits.windowMs, maxConcurrent: limits.maxConcurrent! });
    try {
      const listId = 9;
      mock.createList(listId);
      const munchkin = new URL(mock.restUrl).host.split('.')[0]!;
      const leadIds = Array.from({ length: PER_PROCESS }, (_, i) => mock.addLead({ email: `p${i}@example.com` }));
      const processes = [first.db, second.db(first.name)].map((db) =>
        createConnector(
          { type: 'MARKETO', config: { restUrl: mock.restUrl, identityUrl: mock.identityUrl }, credentials: { clientId: mock.clientId, clientSecret: mock.clientSecret } },
          { fetch, now: clock.now, sleep: clock.sleep, budget: sharedBudget(db, { now: clock.now, sleep: clock.sleep, maxPollMs: 1 }), logger: silentLogger, marketoLimits: limits, maxAttempts: 1, tokenCache: new Map() },
        ),
      );
      // The first calls are held at Marketo until as many are in flight as the limit allows: the budget lets
      // calls run in parallel up to the limit, it does not serialise them.
      const open = mock.hold();
      // 120 one-person batches per process, 12 at a time each: 240 list calls, more than two windows allow.
      const member = (i: number): DeliveryMember => ({ memberId: `p${i}`, memberType: 'PERSON', identities: { b2b_person: `${leadIds[i]}@${munchkin}.Marketo` }, attributes: {} });
      const delivering = Promise.all(
        processes.map(async (connector) => {
          const results = [];
          for (let start = 0; start < PER_PROCESS; start += 12) {
            const wave = Array.from({ length: 12 }, (_, k) => connector.deliver(batchOf({ options: { listId }, adds: [member(start + k)] })));
            results.push(...(await Promise.all(wave)));
          }
          return results;
        }),
      );
      await expect.poll(() => mock.state.maxConcurrentSeen, { timeout: 30_000 }).toBe(limits.maxConcurrent);
      open();
      const outcomes = await delivering;
      const counts = outcomes.flat().map((outcome) => outcome.counts);
      expect(counts).toHaveLength(2 * PER_PROCESS);
      expect(counts).toEqual(counts.map(() => expect.objectContaining({ delivered: 1, failed: 0 })));
      expect(mock.state.refused).toMatchObject({ rate: 0, concurrency: 0 });
      expect(mock.state.calls.filter((call) => call.errorCode)).toEqual([]);
      // Within the limits, and using them nearly whole: the budget's windows and Marketo's sliding one need not
      // line up, so the busiest 20 s at Marketo may fall a call or two short of the limit, never over it.
      expect(mock.state.maxCallsInWindow).toBeLessThanOrEqual(limits.callsPerWindow);
      expect(mock.state.maxCallsInWindow).toBeGreaterThanOrEqual(limits.callsPerWindow - limits.maxConcurrent!);
      expect(mock.state.maxConcurrentSeen).toBe(limits.maxConcurrent);
      expect(mock.state.lists.get(listId)!.size).toBe(PER_PROCESS);
      // 240 calls at 100 per 20 s need at least two windows to have passed.
      expect(clock.millis() - startedAt).toBeGreaterThanOrEqual(2 * limits.windowMs);
    } finally {
      await mock.close();
    }
  }, 120_000);
});
