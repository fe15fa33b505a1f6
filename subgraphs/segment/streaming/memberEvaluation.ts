/**
 * One batch of affected members: each member's data loaded once (bounded queries), each
 * streaming segment's compiled predicate applied in dependency order, the differences written
 * through the memberships repositories, one event per change, and the next wake-up of every
 * (segment, member) whose result depends on a time window.
 *
 * Exactly once without transactions: every membership change is conditional on the status it
 * was decided from and stamps the batch's run id on the membership (`stream:<batchId>`); the
 * events are then written for the memberships that carry the stamp, under ids derived from the
 * batch, so writing them again is a no-op. The batch is recorded (in flight) before its writes,
 * so after a crash its stamped memberships get their events (`writeStampedEvents`) and the
 * changes are evaluated again, which finds nothing left to do for what was written. A change
 * a concurrent writer (the batch evaluator) made first makes the conditional write miss: no
 * stamp, no event.
 */
import { setImmediate } from 'node:timers/promises';
import type { Db } from 'mongodb';
import { streamingPhaseSeconds } from '../../../lib/metrics/jobMetrics.js';
import { loadMembers, type MemberSources } from '../evaluation/memberLoader.js';
import { nextChangeTime, type Member, type TargetEntity } from '../language/index.js';
import type { MemberType } from '../memberships.layout.js';
import type { MembershipEventCause, MembershipEventsRepository, NewMembershipEvent } from '../memberships/membershipEvents.repository.js';
import type { MembershipTransition, MembershipsRepository } from '../memberships/memberships.repository.js';
import type { KnownStatuses, MemberStatuses } from './knownStatuses.js';
import type { KnownWakeUps } from './knownWakeUps.js';
import { streamRunId, type AffectedMember, type InFlightBatch, type StreamCause } from './layout.js';
import { timed } from './phases.js';
import type { SegmentCatalog } from './segmentCatalog.js';
import type { WakeUpWrite } from './wakeUps.repository.js';

export interface EvaluationDeps {
  db: Db;
  memberships: MembershipsRepository;
  events: MembershipEventsRepository;
  wakeUps: KnownWakeUps;
  statuses: KnownStatuses;
  /** What the member loader takes from memory (the events the evaluator follows on its stream). */
  sources: MemberSources;
  /** How long an exited membership is kept. */
  retentionMs: number;
}

export interface BatchOutcome {
  realized: number;
  exited: number;
  /** The earliest wake-up the batch stored (null for none): the evaluator need not ask the database for it. */
  earliestWakeUp: Date | null;
  /** Some conditional writes missed (another writer changed those memberships first): evaluate the members again. */
  missed: boolean;
}

const TARGETS: readonly TargetEntity[] = ['PERSON', 'ACCOUNT'];
/** Longest stretch of evaluation without giving the event loop a turn. */
const YIELD_EVERY_MS = 25;

export function eventCause(cause: StreamCause, batchId: string): MembershipEventCause {
  return cause.kind === 'change' ? { ...cause, batchId } : { kind: 'wakeUp', dueAt: cause.dueAt, batchId };
}

/**
 * Evaluates the members at `now` and writes what changed, under the batch's id. `recorded` is
 * the batch's record in flight, written while the members load: no write starts before it.
 */
export async function evaluateMembers(
  deps: EvaluationDeps,
  catalog: SegmentCatalog,
  batchId: string,
  members: readonly AffectedMember[],
  now: Date,
  recorded: Promise<void> = Promise.resolve(),
): Promise<BatchOutcome> {
  const runId = streamRunId(batchId);
  const transitions: MembershipTransition[] = [];
  const events: NewMembershipEvent[] = [];
  const wakeUps: WakeUpWrite[] = [];
  const expiresAt = new Date(now.getTime() + deps.retentionMs);
  const ids = members.map((member) => member.id);
  const groups = TARGETS.map((target) => ({ target, members: members.filter((member) => member.target === target), segments: catalog.ordered(target) }))
    .filter((group) => group.members.length > 0 && group.segments.length > 0);
  // Every read of the batch at once: statuses, wake-ups, and each target's members with only what its segments read.
  const [statusesOf, storedWakeUps, ...loadedGroups] = await timed('load', () =>
    Promise.all([
      deps.statuses.ofMembers(ids),
      deps.wakeUps.ofMembers(ids),
      ...groups.map((group) => loadMembers(deps.db, group.target, group.members.map((member) => member.id), catalog.needs(group.target, now), deps.sources)),
    ]),
  );

  // People first (TARGETS order): account segments may use person segments inside `people`.
  for (const [index, { target, members: group, segments }] of groups.entries()) {
    const loaded = loadedGroups[index]!;
    const evaluating = performance.now();
    const wanted = group.map((member) => (member.segmentIds === null ? null : new Set(member.segmentIds)));
    const ownStatuses = group.map((member) => statusesOf.get(member.id));
    let ranSince = performance.now();
    // Member by member, each through its segments in order: the segments' shared relation scans
    // (predicate.ts) then read a member's events once per distinct condition.
    for (let i = 0; i < group.length; i++) {
      // A large batch evaluates for seconds: let the lease renewals (timers of this process) run between members.
      if (performance.now() - ranSince >= YIELD_EVERY_MS) {
        await setImmediate();
        ranSince = performance.now();
      }
      const affected = group[i]!;
      const member: Member | null = loaded[i] ?? null;
      // A plain loop, no closure per (member, segment): this runs members times segments per batch.
      for (const segment of segments) {
        if (wanted[i] && !wanted[i]!.has(segment.id)) continue;
        const qualifies = member !== null && segment.predicate(member, now);
        const current = ownStatuses[i]?.get(segment.id);
        const isIn = current !== undefined && current !== 'exited';
        const base = { segmentId: segment.id, memberId: affected.id, runId, at: now };
        if (qualifies && !isIn) {
          transitions.push({ kind: 'enter', from: current ? 'exited' : null, memberType: target, ...base });
          events.push(membershipEvent(base, target, 'realized', eventCause(affected.cause, batchId)));
        } else if (qualifies && current === 'realized') {
          transitions.push({ kind: 'stay', ...base });
        } else if (!qualifies && isIn) {
          transitions.push({ kind: 'exit', ...base, expiresAt });
          events.push(membershipEvent(base, target, 'exited', eventCause(affected.cause, batchId)));
        }
        // Segments later in the order read this one's membership as it now is (`inSegment`).
        if (member && qualifies !== isIn) {
          member.segments = qualifies ? [...member.segments, segment.id] : member.segments.filter((id) => id !== segment.id);
        }
        if (segment.timeDependent) {
          wakeUps.push({ segmentId: segment.id, memberId: affected.id, target, at: member ? nextChangeTime(segment.expr, target, member, now) : null });
        }
      }
    }
    streamingPhaseSeconds.labels('evaluate').observe((performance.now() - evaluating) / 1000);
  }

  await recorded;
  // The wake-ups are written beside the memberships and their events: neither reads the other.
  const [missed, earliestWakeUp] = await Promise.all([
    writeMemberships(deps, { batchId, members, transitions, events, statusesOf }),
    timed('wake_ups', () => deps.wakeUps.apply(wakeUps, storedWakeUps)),
  ]);
  return { realized: events.filter((e) => e.status === 'realized').length, exited: events.filter((e) => e.status === 'exited').length, earliestWakeUp, missed };
}

/** Writes the batch's transitions, then their events; answers whether some conditional writes missed. */
async function writeMemberships(
  deps: EvaluationDeps,
  batch: { batchId: string; members: readonly AffectedMember[]; transitions: MembershipTransition[]; events: NewMembershipEvent[]; statusesOf: MemberStatuses },
): Promise<boolean> {
  const ids = batch.members.map((member) => member.id);
  const applied = await timed('memberships', () => deps.memberships.applyTransitions(batch.transitions)).catch((error: unknown) => {
    deps.statuses.forgetMembers(ids);
    throw error;
  });
  if (applied === batch.transitions.length) {
    deps.statuses.applied(batch.transitions, batch.statusesOf);
    await timed('events', () => deps.events.append(batch.events));
    return false;
  }
  // Another writer was first: only stamped memberships get their events, and what the others hold now is read afresh.
  deps.statuses.forgetMembers(ids);
  await timed('events', () => writeStampedEvents(deps, { batchId: batch.batchId, members: batch.members.map(({ id, target, cause }) => ({ id, target, cause })) }));
  return true;
}

/** The event of a member's entry or exit, at the time of the change that caused it. */
function membershipEvent(
  change: { segmentId: string; memberId: string; at: Date },
  target: TargetEntity,
  status: 'realized' | 'exited',
  cause: MembershipEventCause,
): NewMembershipEvent {
  return { segmentId: change.segmentId, memberId: change.memberId, memberType: target as MemberType, status, occurredAt: change.at, cause };
}

/**
 * Writes the events of the memberships a batch changed (those stamped with its run id), in
 * member order; events already written are left as they are. Used after a crash for the
 * batch that was in flight, and when some of a batch's conditional writes missed.
 */
export async function writeStampedEvents(deps: EvaluationDeps, batch: InFlightBatch): Promise<number> {
  const runId = streamRunId(batch.batchId);
  const causes = new Map(batch.members.map((member) => [member.id, member.cause]));
  const lists = await deps.memberships.listForMembers(batch.members.map((member) => member.id));
  const events: NewMembershipEvent[] = [];
  for (const record of lists.flat()) {
    if (record.runId !== runId || record.status === 'existing') continue;
    const cause = causes.get(record.memberId);
    if (!cause) continue;
    events.push({
      segmentId: record.segmentId,
      memberId: record.memberId,
      memberType: record.memberType,
      status: record.status,
      occurredAt: record.updatedAt,
      cause: eventCause(cause, batch.batchId),
    });
  }
  return deps.events.append(events);
}
