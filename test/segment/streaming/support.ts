/**
 * A sandbox with the streaming evaluator running on it in this process, on the test MongoDB,
 * with a clock the test moves: data written in the stored layout of the profile and account
 * subgraphs (as lib/fixtures/b2bData.ts does), segments stored as the segment service stores
 * them, and readers of memberships and their events.
 */
import type { Db, Document, MongoClient } from 'mongodb';
import { DEFAULT_AUDIENCE_SETTINGS } from '../../../lib/config.js';
import { silentLogger } from '../../../lib/logger.js';
import { createDatabases, type Databases } from '../../../lib/mongo/databases.js';
import type { RunningWorkerService } from '../../../lib/jobs.js';
import { TenancyRepository } from '../../../lib/tenancy/tenancy.repository.js';
import { MEMBERSHIPS_COLLECTION, MEMBERSHIP_EVENTS_COLLECTION } from '../../../subgraphs/segment/memberships.layout.js';
import { SegmentsRepository, type TargetEntity } from '../../../subgraphs/segment/segments.repository.js';
import { createStreamingEvaluatorService, type StreamingEvaluatorOptions } from '../../../subgraphs/segment/streaming/index.js';
import { PartitionsRepository } from '../../../subgraphs/segment/streaming/partitions.repository.js';
import { uniqueName } from '../../support/mongo.js';

export const DAY = 86_400_000;

/** A clock the test moves by hand. */
export class FakeClock {
  constructor(private ms: number) {}
  now = (): Date => new Date(this.ms);
  advance(ms: number): void {
    this.ms += ms;
  }
  set(at: Date): void {
    this.ms = at.getTime();
  }
}

export interface StreamingSandbox {
  databases: Databases;
  sandbox: string;
  db: Db;
  clock: FakeClock;
  start(options?: StreamingEvaluatorOptions): Promise<RunningWorkerService>;
}

const JOB_DEPS = {
  subgraphUrls: { profile: 'http://127.0.0.1:1/graphql', account: 'http://127.0.0.1:1/graphql', segment: 'http://127.0.0.1:1/graphql', destination: 'http://127.0.0.1:1/graphql' },
  security: { gatewaySecret: 's'.repeat(32) },
  audiences: DEFAULT_AUDIENCE_SETTINGS,
} as const;

/** Fast settings for tests: short leases, small batches. */
export const FAST: StreamingEvaluatorOptions = { leaseMs: 1_500, renewEveryMs: 100, relistEveryMs: 200, maxAwaitMs: 50, heartbeatMs: 200 };

let counter = 0;
/** A registered sandbox under `prefix`, and a way to start evaluators limited to it. */
export async function streamingSandbox(client: MongoClient, prefix: string, start: Date): Promise<StreamingSandbox> {
  const databases = createDatabases(client, prefix);
  const sandbox = `${uniqueName('s')}${++counter}`;
  await new TenancyRepository(databases.platform()).insertSandbox({ _id: sandbox, createdAt: start, createdBy: null });
  const clock = new FakeClock(start.getTime());
  return {
    databases,
    sandbox,
    db: databases.sandbox(sandbox),
    clock,
    start: (options = {}) =>
      createStreamingEvaluatorService({ ...FAST, now: clock.now, sandboxes: (name) => name === sandbox, ...options }).start({
        databases,
        logger: silentLogger,
        now: clock.now,
        ...JOB_DEPS,
      }),
  };
}

export async function addSegment(db: Db, id: string, expression: string, targetEntity: TargetEntity = 'PERSON', at = new Date()): Promise<void> {
  await new SegmentsRepository(db).insert({
    id,
    name: id,
    description: null,
    expression,
    targetEntity,
    dependsOn: [...new Set([...expression.matchAll(/inSegment\("([^"]+)"\)/g)].map((match) => match[1]!))],
    createdAt: at,
    updatedAt: at,
  });
}

/** A person in the stored layout: identity keys `email:<email>`, link keys `id:<id>`. */
export async function putPerson(db: Db, id: string, fields: Document, emails: string[] = [`${id}@example.com`]): Promise<void> {
  await db.collection('people').replaceOne(
    { _id: id as never },
    { ...fields, identityKeys: emails.map((email) => `email:${email}`), linkKeys: [`id:${id}`], createdAt: new Date(0) },
    { upsert: true },
  );
}

let eventCounter = 0;
export async function addEvent(db: Db, email: string, fields: { type: string; url?: string; timestamp: Date }): Promise<void> {
  await db.collection('events').insertOne({ _id: `ev${++eventCounter}` as never, identityKey: `email:${email}`, ...fields });
}

export async function putAccount(db: Db, id: string, fields: Document): Promise<void> {
  await db.collection('accounts').updateOne({ _id: id as never }, { $set: fields }, { upsert: true });
}

export async function linkPerson(db: Db, accountId: string, personId: string, isPrimary = true): Promise<void> {
  await db.collection('accountPersonRelations').insertOne({ _id: `rel-${accountId}-${personId}` as never, accountId, personKey: `id:${personId}`, isPrimary, updatedAt: new Date(0) });
}

export async function putOpportunity(db: Db, id: string, accountId: string, fields: Document): Promise<void> {
  await db.collection('opportunities').updateOne({ _id: id as never }, { $set: { accountId, ...fields } }, { upsert: true });
}

/** Current members of a segment, sorted. */
export async function members(db: Db, segmentId: string): Promise<string[]> {
  const docs = await db.collection(MEMBERSHIPS_COLLECTION).find({ segmentId, status: { $in: ['realized', 'existing'] } }).toArray();
  return docs.map((doc) => String(doc.memberId)).sort();
}

export interface LoggedEvent {
  segmentId: string;
  memberId: string;
  status: string;
  kind: string;
  collection?: string;
  occurredAt: Date;
}

/** The membership event log in position order. */
export async function eventLog(db: Db, segmentId?: string): Promise<LoggedEvent[]> {
  const docs = await db.collection(MEMBERSHIP_EVENTS_COLLECTION).find(segmentId ? { segmentId } : {}).sort({ position: 1 }).toArray();
  return docs.map((doc) => ({
    segmentId: doc.segmentId,
    memberId: doc.memberId,
    status: doc.status,
    kind: doc.cause.kind,
    ...(doc.cause.collection ? { collection: doc.cause.collection } : {}),
    occurredAt: doc.occurredAt,
  }));
}

/** Polls until `check` holds (a state the evaluator reaches on its own); fails after `timeoutMs`. */
export async function eventually<T>(what: string, check: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}; last value: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Waits until a worker evaluates the sandbox and has no full pass left to do. */
export async function caughtUp(box: Pick<StreamingSandbox, 'databases' | 'sandbox'>): Promise<void> {
  const partitions = new PartitionsRepository(box.databases.platform());
  await eventually(
    'the streaming evaluator to finish its passes',
    () => partitions.read(box.sandbox),
    (record) => record !== null && record.initialized && record.passes.length === 0 && record.heartbeatAt !== null,
  );
}

/** Waits until the evaluator has begun a turn after this call (so it has read the clock since). */
export async function nextTurn(box: Pick<StreamingSandbox, 'databases' | 'sandbox'>): Promise<void> {
  const partitions = new PartitionsRepository(box.databases.platform());
  const mark = Date.now();
  const beat = async () => (await partitions.read(box.sandbox))?.heartbeatAt?.getTime() ?? 0;
  const first = await eventually('a heartbeat', beat, (at) => at > mark);
  await eventually('another heartbeat', beat, (at) => at > first);
}

/**
 * What exactly-once means in the log: per (segment, member), entries and exits alternate,
 * starting with an entry, and the last one matches the stored membership. Answers the
 * problems found (empty when none).
 */
export async function logProblems(db: Db): Promise<string[]> {
  const problems: string[] = [];
  const byMember = new Map<string, string[]>();
  for (const event of await eventLog(db)) {
    const key = `${event.segmentId}:${event.memberId}`;
    byMember.set(key, [...(byMember.get(key) ?? []), event.status]);
  }
  const stored = await db.collection(MEMBERSHIPS_COLLECTION).find({}).toArray();
  for (const membership of stored) {
    const key = String(membership._id);
    const statuses = byMember.get(key) ?? [];
    byMember.delete(key);
    statuses.forEach((status, i) => {
      if (status !== (i % 2 === 0 ? 'realized' : 'exited')) problems.push(`${key}: ${statuses.join(',')}`);
    });
    const last = statuses.at(-1);
    const expected = membership.status === 'exited' ? 'exited' : 'realized';
    if (last !== expected) problems.push(`${key} is ${membership.status} but its last event is ${last ?? 'none'}`);
  }
  for (const key of byMember.keys()) problems.push(`${key} has events but no membership`);
  return [...new Set(problems)];
}
