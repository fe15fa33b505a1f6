/**
 * The equivalence property: for generated segments over generated B2B data, the batch pipeline's
 * members are exactly the members for which the compiled predicate holds on `loadMembers`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeB2bData } from '../../../lib/fixtures/b2bData.js';
import { createRandom, generateExpr } from '../../../lib/fixtures/segmentExpressions.js';
import { buildSegmentPipeline } from '../../../subgraphs/segment/evaluation/pipeline.js';
import { loadMembers } from '../../../subgraphs/segment/evaluation/memberLoader.js';
import { compilePredicate, printSegment, type Expr, type Member, type TargetEntity } from '../../../subgraphs/segment/language/index.js';
import { NOW, openPipelineSuite, type PipelineSuite } from './support.js';

const SEGMENTS_PER_TARGET = 300;
const SEGMENT_IDS = { PERSON: ['vip-people', 'engaged'], ACCOUNT: ['key-accounts'] } as const;

let suite: PipelineSuite;
const members: Record<TargetEntity, Member[]> = { PERSON: [], ACCOUNT: [] };

beforeAll(async () => {
  suite = await openPipelineSuite('equivalence');
  await writeB2bData(suite.db, { seed: 20260615, now: NOW, people: 240, peoplePerAccount: 6, segmentIds: SEGMENT_IDS });
  for (const target of ['PERSON', 'ACCOUNT'] as const) {
    const collection = target === 'PERSON' ? 'people' : 'accounts';
    const ids = (await suite.db.collection(collection).find({}, { projection: { _id: 1 } }).sort({ _id: 1 }).toArray()).map((doc) => String(doc._id));
    members[target] = (await loadMembers(suite.db, target, ids)).filter((member): member is Member => member !== null);
  }
}, 120_000);
afterAll(async () => {
  await suite.close();
});

function difference(a: readonly string[], b: readonly string[]): string[] {
  const other = new Set(b);
  return a.filter((id) => !other.has(id));
}

describe('the pipeline and the compiled predicate agree', () => {
  for (const target of ['PERSON', 'ACCOUNT'] as const) {
    it(`on ${SEGMENTS_PER_TARGET} generated ${target} segments`, async () => {
      expect(members[target].length).toBeGreaterThan(20);
      const random = createRandom(target === 'PERSON' ? 7 : 11);
      const mismatches: string[] = [];
      let nonTrivial = 0;
      for (let i = 0; i < SEGMENTS_PER_TARGET; i++) {
        const expr: Expr = generateExpr(random, target, { segmentIds: SEGMENT_IDS, now: NOW });
        const predicate = compilePredicate(expr, target);
        const expected = members[target].filter((member) => predicate(member, NOW)).map((member) => member.id).sort();
        const { collectionName, pipeline } = buildSegmentPipeline(expr, { target, now: NOW });
        const actual = (await suite.db.collection(collectionName).aggregate(pipeline).toArray()).map((doc) => String(doc._id));
        if (expected.length > 0 && expected.length < members[target].length) nonTrivial++;
        if (JSON.stringify(actual) !== JSON.stringify(expected)) {
          mismatches.push(
            `${printSegment(expr)}\n  only in the pipeline: ${difference(actual, expected).join(', ') || '-'}\n  only in the predicate: ${difference(expected, actual).join(', ') || '-'}`,
          );
        }
      }
      expect(mismatches, mismatches.slice(0, 5).join('\n\n')).toEqual([]);
      // The data and the segments meet: most segments select some members but not all.
      expect(nonTrivial).toBeGreaterThan(SEGMENTS_PER_TARGET / 4);
    }, 120_000);
  }
});
