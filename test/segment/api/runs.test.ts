/**
 * Starting and following evaluation runs, and the nightly schedule, through the
 * segment subgraph alone (no worker: a run stays QUEUED, with its job waiting).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql, postGraphQL } from '../../subgraphs/support/graphql.js';
import type { SubgraphSuite } from '../../subgraphs/support/subgraphSuite.js';
import { startSegmentSuite, storeSegment } from './support.js';

const EVALUATE = `mutation ($ids: [ID!]) { evaluateSegments(ids: $ids) { id status startedAt finishedAt segmentsTotal segmentsDone membersEvaluated error } }`;

describe('evaluation runs and the schedule', () => {
  let suite: SubgraphSuite;
  beforeAll(async () => {
    suite = await startSegmentSuite();
  });
  afterAll(async () => {
    await suite?.stop();
  });

  it('answers a queued run at once and reads it back; unknown ids and viewers are refused', async () => {
    const sandbox = 'runs';
    const db = suite.databases.sandbox(sandbox);
    const [a, b] = [await storeSegment(db), await storeSegment(db)];
    const { evaluateSegments: run } = await gql(suite.url, EVALUATE, { ids: [a.id, b.id, a.id] }, { sandbox, role: 'editor' });
    expect(run).toMatchObject({ status: 'QUEUED', startedAt: null, finishedAt: null, segmentsTotal: 2, segmentsDone: 0, membersEvaluated: 0, error: null });
    const { evaluationRun } = await gql(suite.url, `query ($id: ID!) { evaluationRun(id: $id) { id status } }`, { id: run.id }, { sandbox, role: 'viewer' });
    expect(evaluationRun).toEqual({ id: run.id, status: 'QUEUED' });
    expect((await gql(suite.url, `{ evaluationRun(id: "run_nowhere") { id } }`, {}, { sandbox })).evaluationRun).toBeNull();

    const all = (await gql(suite.url, EVALUATE, {}, { sandbox, role: 'editor' })).evaluateSegments;
    expect(all.status).toBe('QUEUED');

    const unknown = await postGraphQL(suite.url, EVALUATE, { ids: [a.id, 'seg_nowhere'] }, { sandbox, role: 'editor' });
    expect(unknown.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(unknown.errors?.[0]?.message).toContain('seg_nowhere');
    const empty = await postGraphQL(suite.url, EVALUATE, { ids: [] }, { sandbox, role: 'editor' });
    expect(empty.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const viewer = await postGraphQL(suite.url, EVALUATE, {}, { sandbox, role: 'viewer' });
    expect(viewer.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(await db.collection('evaluationRuns').countDocuments()).toBe(2);
  });

  it('keeps a nightly schedule per sandbox that only admins change, refusing an invalid cron', async () => {
    const sandbox = 'schedule';
    expect((await gql(suite.url, `{ evaluationSchedule }`, {}, { sandbox, role: 'viewer' })).evaluationSchedule).toBe('0 2 * * *');
    const set = await gql(suite.url, `mutation { setEvaluationSchedule(cron: " 15 1 * * * ") }`, {}, { sandbox, role: 'admin' });
    expect(set.setEvaluationSchedule).toBe('15 1 * * *');
    expect((await gql(suite.url, `{ evaluationSchedule }`, {}, { sandbox })).evaluationSchedule).toBe('15 1 * * *');
    expect((await gql(suite.url, `{ evaluationSchedule }`, {}, { sandbox: 'other-sandbox' })).evaluationSchedule).toBe('0 2 * * *');

    for (const cron of ['every night', '61 2 * * *', '']) {
      const invalid = await postGraphQL(suite.url, `mutation ($cron: String!) { setEvaluationSchedule(cron: $cron) }`, { cron }, { sandbox, role: 'admin' });
      expect(invalid.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    }
    const editor = await postGraphQL(suite.url, `mutation { setEvaluationSchedule(cron: "0 3 * * *") }`, {}, { sandbox, role: 'editor' });
    expect(editor.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await gql(suite.url, `{ evaluationSchedule }`, {}, { sandbox })).evaluationSchedule).toBe('15 1 * * *');
  });
});
