/**
 * Part (a) of the segments benchmark: the compiled predicate against the hand-written
 * functions of handWritten.ts, over the same members, loaded once into memory. Both
 * must agree on every member (a disagreement is reported, not timed away); each is timed
 * as the best of several passes, and the ratio is hand-written time / compiled time
 * (1.0 = as fast as hand-written; the goal is at least 0.7).
 */
import { performance } from 'node:perf_hooks';
import { compilePredicate, compileSegment, type PersonMember, type Predicate } from '../../subgraphs/segment/language/index.js';
import { HAND_WRITTEN_CASES } from './handWritten.js';

export interface PredicateMeasure {
  case: string;
  members: number;
  matching: number;
  disagreements: number;
  compiledNsPerMember: number;
  handWrittenNsPerMember: number;
  /** hand-written time / compiled time. */
  ratio: number;
}

const PASSES = 7;

/** Best time of `PASSES` passes over the members, in nanoseconds per member. */
function time(members: readonly PersonMember[], predicate: Predicate | ((member: PersonMember, now: Date) => boolean), now: Date): number {
  let best = Infinity;
  let sink = 0;
  for (let pass = 0; pass < PASSES; pass++) {
    const started = performance.now();
    for (let i = 0; i < members.length; i++) if (predicate(members[i]!, now)) sink++;
    best = Math.min(best, performance.now() - started);
  }
  // Keeps the loop's result alive so the engine cannot drop the calls.
  if (sink < 0) console.log(sink);
  return (best * 1e6) / members.length;
}

export function measurePredicates(members: readonly PersonMember[], now: Date): PredicateMeasure[] {
  return HAND_WRITTEN_CASES.map((testCase) => {
    const compiled = compilePredicate(compileSegment(testCase.expression, { target: 'PERSON' }).expr, 'PERSON');
    let matching = 0;
    let disagreements = 0;
    for (const member of members) {
      const expected = testCase.predicate(member, now);
      if (expected) matching++;
      if (compiled(member, now) !== expected) disagreements++;
    }
    // Alternate, so neither side always runs on a warmer (or more fragmented) heap.
    let compiledNs = Infinity;
    let handNs = Infinity;
    for (let round = 0; round < 2; round++) {
      compiledNs = Math.min(compiledNs, time(members, compiled, now));
      handNs = Math.min(handNs, time(members, testCase.predicate, now));
    }
    return {
      case: testCase.name,
      members: members.length,
      matching,
      disagreements,
      compiledNsPerMember: Math.round(compiledNs),
      handWrittenNsPerMember: Math.round(handNs),
      ratio: Math.round((handNs / compiledNs) * 100) / 100,
    };
  });
}
