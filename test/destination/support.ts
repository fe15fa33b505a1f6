/** Fixtures for connector tests: a clock that only moves when told, a sleep that records, members, and deps. */
import type { Db, MongoClient } from 'mongodb';
import { silentLogger } from '../../lib/logger.js';
import { unlimitedBudget, type CallBudget } from '../../lib/connectors/callBudget.js';
import type { ConnectorDeps, DeliveryBatch, DeliveryMember } from '../../subgraphs/destination/connectors/connector.js';
import { createSharedBudget, type SharedBudgetOptions } from '../../lib/connectors/sharedBudget.js';
import { ApiBudgetRepository } from '../../lib/connectors/apiBudget.repository.js';
import { connectTestClient, uniqueName } from '../support/mongo.js';

/** A clock at a fixed moment; `sleep` records the wait and moves the clock, without waiting. */
export function fakeClock(start = Date.parse('2026-03-02T09:00:00Z')) {
  let time = start;
  const sleeps: number[] = [];
  return {
    now: () => new Date(time),
    millis: () => time,
    advance(ms: number) {
      time += ms;
    },
    sleeps,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      time += ms;
    },
  };
}

export type FakeClock = ReturnType<typeof fakeClock>;

/**
 * A clock several callers share at once: it moves only when one of them sleeps, to the moment that
 * sleep ends (never back), so waits that overlap overlap as they would in real time; nothing waits.
 */
export function virtualClock(start = Date.parse('2026-03-02T09:00:00Z')) {
  let time = start;
  return {
    now: () => new Date(time),
    millis: () => time,
    sleep: async (ms: number) => {
      const wakeAt = time + ms;
      // One turn of the event loop, so that callers who start sleeping together wake together.
      await new Promise((resolve) => setImmediate(resolve));
      time = Math.max(time, wakeAt);
    },
  };
}

export function connectorDeps(clock: FakeClock, overrides: Partial<ConnectorDeps> = {}): ConnectorDeps {
  return { fetch, now: clock.now, sleep: clock.sleep, budget: unlimitedBudget, logger: silentLogger, random: () => 0.5, ...overrides };
}

/** A database of its own for a suite, and budgets over it as separate processes would have them. */
export async function budgetDatabase(): Promise<{ client: MongoClient; db: Db; name: string; close(): Promise<void> }> {
  const client = await connectTestClient();
  const name = uniqueName('t_budget_');
  const db = client.db(name);
  return {
    client,
    db,
    name,
    async close() {
      await db.dropDatabase();
      await client.close();
    },
  };
}

export function sharedBudget(db: Db, options: SharedBudgetOptions): CallBudget {
  return createSharedBudget(new ApiBudgetRepository(db), options);
}

export function person(id: string, email: string | null, extra: Partial<DeliveryMember> = {}): DeliveryMember {
  return {
    memberId: id,
    memberType: 'PERSON',
    identities: email === null ? {} : { email },
    attributes: {},
    consentMarketingEmail: 'y',
    ...extra,
  };
}

export function account(id: string, name: string | null, domain: string | null): DeliveryMember {
  return { memberId: id, memberType: 'ACCOUNT', identities: domain ? { domain } : {}, attributes: { name } };
}

export function batchOf(parts: Partial<DeliveryBatch>): DeliveryBatch {
  return {
    activationId: 'act_1',
    segmentId: 'seg_1',
    runId: 'run_1',
    memberType: 'PERSON',
    adds: [],
    removes: [],
    mapping: [],
    options: {},
    ...parts,
  };
}

export function statusesOf(outcome: { results: Array<{ memberId: string; status: string; code?: string }> }): Record<string, string> {
  return Object.fromEntries(outcome.results.map((result) => [result.memberId, result.code ? `${result.status}:${result.code}` : result.status]));
}
