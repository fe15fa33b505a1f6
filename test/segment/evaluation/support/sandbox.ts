/** A sandbox database per test, under a prefix the suite drops afterwards, with segments and test people. */
import type { Db, MongoClient } from 'mongodb';
import { createDatabases, type Databases } from '../../../../lib/mongo/databases.js';
import { MEMBERSHIPS_COLLECTION, MEMBERSHIP_EVENTS_COLLECTION } from '../../../../subgraphs/segment/memberships.layout.js';
import { SegmentsRepository, type TargetEntity } from '../../../../subgraphs/segment/segments.repository.js';
import { EvaluationRunsRepository } from '../../../../subgraphs/segment/memberships/evaluationRuns.repository.js';
import { uniqueName } from '../../../support/mongo.js';
import { TEST_PEOPLE, type TestPerson } from './predicateSource.js';

/** In the future, so no exited membership written by a test expires (TTL) while the test runs. */
export const T0 = new Date('2099-03-01T02:00:00.000Z');

let counter = 0;
/** A fresh sandbox in `client` under `prefix`. */
export function newSandbox(client: MongoClient, prefix: string): { databases: Databases; sandbox: string; db: Db } {
  const databases = createDatabases(client, prefix);
  const sandbox = `${uniqueName('s')}${++counter}`;
  return { databases, sandbox, db: databases.sandbox(sandbox) };
}

export async function addSegments(db: Db, segments: Array<{ id: string; expression: string; targetEntity?: TargetEntity }>): Promise<void> {
  const repository = new SegmentsRepository(db);
  for (const segment of segments) {
    await repository.insert({
      id: segment.id,
      name: segment.id,
      description: null,
      expression: segment.expression,
      targetEntity: segment.targetEntity ?? 'PERSON',
      dependsOn: [...new Set([...segment.expression.matchAll(/inSegment\("([^"]+)"\)/g)].map((match) => match[1]!))],
      createdAt: T0,
      updatedAt: T0,
    });
  }
}

export async function putPeople(db: Db, people: TestPerson[]): Promise<void> {
  await db.collection<TestPerson>(TEST_PEOPLE).deleteMany({});
  if (people.length > 0) await db.collection<TestPerson>(TEST_PEOPLE).insertMany(people);
}

/** `count` people `p0001`... with leadScore = index % 100 and two countries. */
export function people(count: number): TestPerson[] {
  return Array.from({ length: count }, (_, i) => ({ _id: `p${String(i).padStart(5, '0')}`, leadScore: i % 100, country: i % 3 === 0 ? 'FR' : 'US' }));
}

export async function queueRun(db: Db, id: string, at: Date, segmentIds: string[] | null = null): Promise<void> {
  const runs = new EvaluationRunsRepository(db);
  await runs.ensureIndexes();
  await runs.insertQueued({ id, trigger: 'ON_DEMAND', segmentIds, evaluationTime: at, createdAt: at });
}

/** Memberships without volatile fields, sorted: what two equivalent evaluations must agree on. */
export async function membershipState(db: Db): Promise<string[]> {
  const docs = await db.collection(MEMBERSHIPS_COLLECTION).find({}).sort({ _id: 1 }).toArray();
  return docs.map((doc) => `${doc.segmentId}:${doc.memberId}:${doc.status}:${(doc.lastQualificationTime as Date).toISOString()}:${doc.expiresAt ? (doc.expiresAt as Date).toISOString() : '-'}`);
}

/** Events as (segment, member, status, run), sorted, with their positions checked to increase in insertion order. */
export async function eventState(db: Db): Promise<string[]> {
  const docs = await db.collection(MEMBERSHIP_EVENTS_COLLECTION).find({}).sort({ position: 1 }).toArray();
  return docs.map((doc) => `${doc.segmentId}:${doc.memberId}:${doc.status}:${(doc.cause as { runId: string }).runId}`).sort();
}
