/**
 * A qualifying-members source for tests that does not need the aggregation back end:
 * it reads plain test people (`evalPeople`: `{ _id, leadScore, country, ... }`) in id
 * order and keeps those the compiled predicate accepts, with `segments` read from the
 * current memberships (so `inSegment` sees what earlier segments of the run wrote).
 */
import type { Db } from 'mongodb';
import { compilePredicate, type PersonMember } from '../../../../subgraphs/segment/language/index.js';
import { CURRENT_STATUSES, MEMBERSHIPS_COLLECTION } from '../../../../subgraphs/segment/memberships.layout.js';
import type { QualifyingSource } from '../../../../subgraphs/segment/evaluation/batchEvaluation.js';

export const TEST_PEOPLE = 'evalPeople';

export interface TestPerson {
  _id: string;
  leadScore?: number;
  country?: string;
  jobTitle?: string;
}

export function predicateSource(db: Db): QualifyingSource {
  return async function* qualifying(segment, now) {
    const predicate = compilePredicate(segment.expr, segment.target);
    const cursor = db.collection<TestPerson>(TEST_PEOPLE).find({}).sort({ _id: 1 }).batchSize(200);
    for await (const person of cursor) {
      const current = await db
        .collection(MEMBERSHIPS_COLLECTION)
        .find({ memberId: person._id, status: { $in: [...CURRENT_STATUSES] } }, { projection: { segmentId: 1 } })
        .toArray();
      const member: PersonMember = {
        ...person,
        id: person._id,
        events: [],
        accounts: [],
        opportunities: [],
        account: null,
        segments: current.map((membership) => String(membership.segmentId)),
      };
      if (predicate(member, now)) yield person._id;
    }
  };
}
