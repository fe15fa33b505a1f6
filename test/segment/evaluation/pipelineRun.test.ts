/**
 * Evaluation runs with the production source, the segment's aggregation pipeline, over
 * seeded B2B data: after a run each segment's current members are exactly what its
 * pipeline answers at the run's time (segments of segments included), and a later run
 * moves members in and out as the data's time windows close.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db, MongoClient } from 'mongodb';
import { writeB2bData } from '../../../lib/fixtures/b2bData.js';
import { silentLogger } from '../../../lib/logger.js';
import { runEvaluation } from '../../../subgraphs/segment/evaluation/batchEvaluation.js';
import { buildSegmentPipeline } from '../../../subgraphs/segment/evaluation/pipeline.js';
import { QualifyingMembersRepository } from '../../../subgraphs/segment/evaluation/qualifyingMembers.repository.js';
import { compileSegment, type TargetEntity } from '../../../subgraphs/segment/language/index.js';
import { MembershipEventsRepository } from '../../../subgraphs/segment/memberships/membershipEvents.repository.js';
import { MembershipsRepository } from '../../../subgraphs/segment/memberships/memberships.repository.js';
import { connectTestClient, dropDatabasesWithPrefix, uniqueName } from '../../support/mongo.js';
import { addSegments, newSandbox, queueRun } from './support/sandbox.js';

const PREFIX = uniqueName('evp_');
/** In the future, so exited memberships do not expire (TTL) during the test. */
const NOW = new Date(Date.UTC(2099, 5, 15, 12));
const LATER = new Date(NOW.getTime() + 10 * 86_400_000);
let client: MongoClient;
beforeAll(async () => {
  client = await connectTestClient();
});
afterAll(async () => {
  await dropDatabasesWithPrefix(client, PREFIX);
  await client?.close();
});

const SEGMENTS: Array<{ id: string; expression: string; targetEntity: TargetEntity }> = [
  { id: 'recent', expression: 'events.any(timestamp occurs <= 7 days before now)', targetEntity: 'PERSON' },
  { id: 'vp', expression: 'jobTitle.contains("vp", false)', targetEntity: 'PERSON' },
  { id: 'recentVp', expression: 'inSegment("recent") and inSegment("vp")', targetEntity: 'PERSON' },
  { id: 'engaged', expression: 'people.any(inSegment("recent"))', targetEntity: 'ACCOUNT' },
];

async function pipelineIds(db: Db, id: string, at: Date): Promise<string[]> {
  const segment = SEGMENTS.find((candidate) => candidate.id === id)!;
  const targets = new Map(SEGMENTS.map((candidate) => [candidate.id, candidate.targetEntity]));
  const { expr } = compileSegment(segment.expression, { target: segment.targetEntity, segmentTarget: (other) => targets.get(other) });
  const ids: string[] = [];
  for await (const memberId of new QualifyingMembersRepository(db).stream(buildSegmentPipeline(expr, { target: segment.targetEntity, now: at }))) ids.push(memberId);
  return ids;
}

async function currentMembers(db: Db, segmentId: string): Promise<string[]> {
  const rows = await new MembershipsRepository(db).pageOfSegment(segmentId, { statuses: ['realized', 'existing'], limit: 10_000 });
  return rows.map((row) => row.memberId);
}

describe('runs with the aggregation pipeline', () => {
  it('leave every segment holding what its pipeline answers at the run time', async () => {
    const { db } = newSandbox(client, `${PREFIX}_`);
    await writeB2bData(db, { seed: 7, now: NOW, people: 300 });
    await addSegments(db, SEGMENTS);

    await queueRun(db, 'run1', NOW);
    const first = await runEvaluation('run1', { db, logger: silentLogger, now: () => NOW, exitedRetentionDays: 30, leaseMs: 60_000 });
    expect(first).toMatchObject({ status: 'SUCCEEDED', segmentsDone: 4, error: null });
    expect(first!.plan!.indexOf('recentVp')).toBeGreaterThan(Math.max(first!.plan!.indexOf('recent'), first!.plan!.indexOf('vp')));
    for (const { id } of SEGMENTS) expect(await currentMembers(db, id)).toEqual(await pipelineIds(db, id, NOW));
    const recent = await currentMembers(db, 'recent');
    const vp = new Set(await currentMembers(db, 'vp'));
    expect(recent.length).toBeGreaterThan(0);
    expect(await currentMembers(db, 'recentVp')).toEqual(recent.filter((id) => vp.has(id)));

    // Ten days on, last week's activity is older than 7 days: people leave `recent` and what builds on it.
    await queueRun(db, 'run2', LATER);
    const second = await runEvaluation('run2', { db, logger: silentLogger, now: () => LATER, exitedRetentionDays: 30, leaseMs: 60_000 });
    expect(second).toMatchObject({ status: 'SUCCEEDED' });
    for (const { id } of SEGMENTS) expect(await currentMembers(db, id)).toEqual(await pipelineIds(db, id, LATER));
    const recentResult = second!.results.find((result) => result.segmentId === 'recent')!;
    expect(recentResult.exited).toBeGreaterThan(0);
    const exits = (await new MembershipEventsRepository(db).after(0, { segmentId: 'recent', limit: 10_000 })).filter(
      (event) => event.status === 'exited' && event.cause.kind === 'batch' && event.cause.runId === 'run2',
    );
    expect(exits).toHaveLength(recentResult.exited);
  });
});
