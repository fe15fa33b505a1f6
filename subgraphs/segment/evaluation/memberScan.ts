/**
 * Batch evaluation of many segments of one target in one pass over its members:
 * page by page in `_id` order, each page's members are read once (the member
 * loader's few batched queries through the owning subgraphs' views, reading only
 * the fields, relations and event windows the segments use), every
 * segment's compiled predicate decides them, and each segment's differences for
 * the page are written by the same merge join as a single segment's
 * (`diffSegment`), over the page's id range so members that no longer exist
 * exit too. A run of 100 segments reads the data once instead of 100 times, and
 * memory holds one page whatever the number of members.
 *
 * Segments are decided in plan order within a member, and each decision updates
 * the member's `segments`, so `inSegment` of a segment in the same run sees this
 * run's answer. (Person segments are scanned before account segments, which may
 * use them inside `people`; those read the stored memberships the person scan wrote.)
 *
 * After each page the scan's checkpoint is saved; a rerun resumes after the last
 * saved page, and redoing a page whose writes landed before a crash changes
 * nothing (the diff's writes are idempotent within a run).
 */
import type { Db } from 'mongodb';
import { pageAccountIds } from '../../account/account.view.js';
import { pagePersonIds } from '../../profile/profile.view.js';
import { compilePredicate, type Member, type TargetEntity } from '../language/index.js';
import type { ScanCheckpoint, ScanCounts } from '../memberships/evaluationRuns.repository.js';
import type { MembershipState, MembershipsRepository } from '../memberships/memberships.repository.js';
import type { EvaluableSegment } from './batchEvaluation.js';
import { loadMembers } from './memberLoader.js';
import { memberNeeds } from './memberNeeds.js';
import { diffSegment, type MembershipWriter } from './segmentDiff.js';

export const DEFAULT_SCAN_PAGE_SIZE = 500;

export interface MemberScanInput {
  db: Db;
  target: TargetEntity;
  /** The segments of `target` to decide, in plan order. */
  segments: readonly EvaluableSegment[];
  runId: string;
  /** The run's evaluation time. */
  at: Date;
  retentionMs: number;
  memberships: MembershipsRepository;
  writer: MembershipWriter;
  /** Where an earlier attempt of this run stopped, if it was scanning this target. */
  resume: ScanCheckpoint | null;
  /** Saves the checkpoint after each page (and renews the run's lease). */
  onPage: (checkpoint: ScanCheckpoint, membersEvaluated: number) => Promise<void>;
  pageSize?: number;
}

const zero = (): ScanCounts => ({ realized: 0, existing: 0, exited: 0, membersEvaluated: 0 });

interface ScanPage {
  ids: string[];
  /** The page's last member id; null for the last page. */
  toId: string | null;
  members: Array<Member | null>;
  stored: MembershipState[];
}

/** A page read ahead; if the scan fails before it is awaited, its own failure is not reported as unhandled. */
function readAhead(page: Promise<ScanPage>): Promise<ScanPage> {
  page.catch(() => undefined);
  return page;
}

async function* fromArray<T>(items: readonly T[]): AsyncGenerator<T> {
  yield* items;
}

/** Scans every member of the target; returns each segment's counts for the whole run. */
export async function scanMembers(input: MemberScanInput): Promise<Record<string, ScanCounts>> {
  const { db, target, segments, at } = input;
  const pageSize = input.pageSize ?? DEFAULT_SCAN_PAGE_SIZE;
  const counts: Record<string, ScanCounts> = {};
  for (const segment of segments) counts[segment.id] = { ...zero(), ...input.resume?.counts[segment.id] };
  if (input.resume?.finished) return counts;

  const deciders = segments.map((segment) => ({ id: segment.id, qualifies: compilePredicate(segment.expr, target) }));
  const segmentIds = segments.map((segment) => segment.id);
  // Only what these segments read is loaded: their fields, relations and event windows.
  const needs = memberNeeds(segments.map((segment) => segment.expr), at);
  const pageIds = target === 'PERSON' ? pagePersonIds : pageAccountIds;
  let afterId = input.resume?.afterId ?? null;
  let evaluated = Object.values(counts).reduce((sum, c) => sum + c.membersEvaluated, 0);

  // One page ahead is read while the current page's writes go: the pages' member ranges are
  // disjoint, so a page's writes never change what the next page reads.
  const readPage = async (after: string | null): Promise<ScanPage> => {
    const ids = await pageIds(db, after, pageSize);
    // The last page reaches to the end of the id space, so memberships of members past the last one exit.
    const toId = ids.length === pageSize ? ids[ids.length - 1]! : null;
    const [members, stored] = await Promise.all([
      loadMembers(db, target, ids, needs),
      input.memberships.inMemberRange(target, segmentIds, after, toId),
    ]);
    return { ids, toId, members, stored };
  };
  let next = readAhead(readPage(afterId));
  for (;;) {
    const { ids, toId, members, stored: storedList } = await next;
    if (toId !== null) next = readAhead(readPage(toId));
    const qualifying = decide(deciders, ids, members, at);
    const stored = groupBySegment(storedList);

    const page = bufferedWriter(input.writer);
    for (const segment of segments) {
      const result = await diffSegment({
        segmentId: segment.id,
        memberType: target,
        runId: input.runId,
        at,
        retentionMs: input.retentionMs,
        qualifying: fromArray(qualifying.get(segment.id) ?? []),
        memberships: fromArray(stored.get(segment.id) ?? []),
        writer: page,
      });
      const total = counts[segment.id]!;
      total.realized += result.realized;
      total.existing += result.existing;
      total.exited += result.exited;
      total.membersEvaluated += result.membersEvaluated;
      evaluated += result.membersEvaluated;
    }
    await page.flush();

    afterId = toId;
    const finished = toId === null;
    await input.onPage({ target, afterId, finished, counts }, evaluated);
    if (finished) return counts;
  }
}

/** Each segment's qualifying ids among the page's members, in id order; `segments` updated as decisions are made. */
function decide(
  deciders: ReadonlyArray<{ id: string; qualifies: (member: Member, now: Date) => boolean }>,
  ids: readonly string[],
  members: ReadonlyArray<Member | null>,
  at: Date,
): Map<string, string[]> {
  const qualifying = new Map<string, string[]>(deciders.map((decider) => [decider.id, []]));
  members.forEach((member, index) => {
    if (!member) return;
    // The member's own copy, changed in place as each decision is made (the member is this page's alone).
    const segments = (member.segments = [...member.segments]);
    for (const decider of deciders) {
      const qualifies = decider.qualifies(member, at);
      if (qualifies) qualifying.get(decider.id)!.push(ids[index]!);
      const position = segments.indexOf(decider.id);
      if (qualifies && position < 0) segments.push(decider.id);
      else if (!qualifies && position >= 0) segments.splice(position, 1);
    }
  });
  return qualifying;
}

function groupBySegment(memberships: readonly MembershipState[]): Map<string, MembershipState[]> {
  const bySegment = new Map<string, MembershipState[]>();
  for (const membership of memberships) {
    let list = bySegment.get(membership.segmentId);
    if (!list) bySegment.set(membership.segmentId, (list = []));
    list.push(membership);
  }
  return bySegment;
}

/**
 * Gathers a page's writes across segments and sends them as one batch of events, then one of
 * membership changes: the diff's order (an event before its membership change) holds for all.
 */
function bufferedWriter(writer: MembershipWriter): MembershipWriter & { flush(): Promise<void> } {
  const events: Parameters<MembershipWriter['appendEvents']>[0][number][] = [];
  const transitions: Parameters<MembershipWriter['applyTransitions']>[0][number][] = [];
  return {
    async appendEvents(batch) {
      events.push(...batch);
    },
    async applyTransitions(batch) {
      transitions.push(...batch);
    },
    async flush() {
      if (events.length > 0) await writer.appendEvents(events.splice(0));
      if (transitions.length > 0) await writer.applyTransitions(transitions.splice(0));
    },
  };
}
