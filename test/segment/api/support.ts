/**
 * The segment subgraph on its own for API tests, and factories that write
 * segments, memberships, events and last evaluations straight into a sandbox
 * database, as evaluation would have left them.
 */
import type { Db } from 'mongodb';
import { startSegmentSubgraph } from '../../../subgraphs/segment/server.js';
import { MembershipEventsRepository } from '../../../subgraphs/segment/memberships/membershipEvents.repository.js';
import { MembershipsRepository, type MembershipTransition } from '../../../subgraphs/segment/memberships/memberships.repository.js';
import { SegmentEvaluationsRepository } from '../../../subgraphs/segment/memberships/segmentEvaluations.repository.js';
import { SegmentsRepository, type SegmentRecord, type TargetEntity } from '../../../subgraphs/segment/segments.repository.js';
import { startSubgraphSuite, type SubgraphSuite } from '../../subgraphs/support/subgraphSuite.js';

export const startSegmentSuite = (options: { now?: () => Date } = {}): Promise<SubgraphSuite> =>
  startSubgraphSuite(startSegmentSubgraph, { clientOptions: { monitorCommands: true }, ...options });

let counter = 0;

/** A stored segment, bypassing the expression checks (its expression is not evaluated here). */
export async function storeSegment(
  db: Db,
  fields: Partial<SegmentRecord> & { targetEntity?: TargetEntity } = {},
): Promise<SegmentRecord> {
  counter += 1;
  const at = new Date('2026-01-01T00:00:00Z');
  const record: SegmentRecord = {
    id: `seg_test${String(counter).padStart(6, '0')}`,
    name: `Segment ${counter}`,
    description: null,
    expression: 'true',
    targetEntity: 'PERSON',
    dependsOn: [],
    createdAt: at,
    updatedAt: at,
    ...fields,
  };
  return new SegmentsRepository(db).insert(record);
}

/**
 * Two evaluation runs' worth of memberships and events: `stayed` and `exited` entered in the
 * first run (at `at.first`); in the second (at `at.second`) `stayed` stayed, `exited` left and
 * `entered` entered. The segment's last evaluation is the second run.
 */
export async function storeMemberships(
  db: Db,
  segment: Pick<SegmentRecord, 'id' | 'targetEntity'>,
  members: { stayed?: string[]; exited?: string[]; entered?: string[] },
  at: { first: Date; second: Date },
): Promise<void> {
  const memberships = new MembershipsRepository(db);
  const events = new MembershipEventsRepository(db);
  await Promise.all([memberships.ensureIndexes(), events.ensureIndexes()]);
  const { stayed = [], exited = [], entered = [] } = members;
  const base = { segmentId: segment.id, memberType: segment.targetEntity };
  const enter = (memberId: string, runId: string, time: Date): MembershipTransition => ({ kind: 'enter', from: null, ...base, memberId, runId, at: time });
  const event = (memberId: string, status: 'realized' | 'exited', runId: string, time: Date) =>
    ({ ...base, memberId, status, occurredAt: time, cause: { kind: 'batch', runId } }) as const;

  await memberships.applyTransitions([...stayed, ...exited].map((id) => enter(id, 'run_1', at.first)));
  await events.append([...stayed, ...exited].map((id) => event(id, 'realized', 'run_1', at.first)));
  const expiresAt = new Date(at.second.getTime() + 30 * 86_400_000);
  await memberships.applyTransitions([
    ...stayed.map((memberId): MembershipTransition => ({ kind: 'stay', segmentId: segment.id, memberId, runId: 'run_2', at: at.second })),
    ...exited.map((memberId): MembershipTransition => ({ kind: 'exit', segmentId: segment.id, memberId, runId: 'run_2', at: at.second, expiresAt })),
    ...entered.map((id) => enter(id, 'run_2', at.second)),
  ]);
  await events.append([...exited.map((id) => event(id, 'exited', 'run_2', at.second)), ...entered.map((id) => event(id, 'realized', 'run_2', at.second))]);
  await new SegmentEvaluationsRepository(db).record({
    segmentId: segment.id,
    runId: 'run_2',
    evaluationTime: at.second,
    startedAt: at.second,
    finishedAt: new Date(at.second.getTime() + 1_000),
    realized: entered.length,
    existing: stayed.length,
    exited: exited.length,
  });
}
