/**
 * One segment's evaluation in a run: a merge join of the qualifying members (sorted
 * by id, from the pipeline) with the segment's memberships (sorted by memberId),
 * writing only the differences, in batches. Neither set is held in memory: memory
 * stays at one batch of writes and the two cursors' buffers, whatever the size.
 *
 * Per member:
 *   qualifies, no membership          -> realized, event
 *   qualifies, realized               -> existing (no event)
 *   qualifies, existing               -> nothing
 *   qualifies, exited                 -> realized, event
 *   does not qualify, realized/existing -> exited (expires after the retention), event
 *   does not qualify, exited          -> nothing
 * `lastQualificationTime` is written only with a status change, so a nightly run writes
 * the differences and not every member; a current member's latest qualification is the
 * segment's last evaluation time (see `lastQualificationTime()` in the repository).
 *
 * Safe to repeat within a run: each event is written before its membership change,
 * under an idempotency key; each change is conditional on the state it was decided
 * from; and a membership already changed by this run (`runId`) is taken as done.
 */
import type { MembershipEventsRepository, NewMembershipEvent } from '../memberships/membershipEvents.repository.js';
import type { MembershipState, MembershipTransition, MembershipsRepository } from '../memberships/memberships.repository.js';
import type { MemberType } from '../memberships.layout.js';
import { DomainError, ErrorCode } from '../../../lib/errors.js';

/** Where a segment's changes go; the repositories by default, wrapped in tests to fail mid-run. */
export interface MembershipWriter {
  appendEvents(events: readonly NewMembershipEvent[]): Promise<unknown>;
  applyTransitions(transitions: readonly MembershipTransition[]): Promise<unknown>;
}

export function repositoryWriter(events: MembershipEventsRepository, memberships: MembershipsRepository): MembershipWriter {
  return {
    appendEvents: (batch) => events.append(batch),
    applyTransitions: (batch) => memberships.applyTransitions(batch),
  };
}

export interface SegmentDiffInput {
  segmentId: string;
  memberType: MemberType;
  runId: string;
  /** The run's evaluation time: every change and event of the run carries it. */
  at: Date;
  /** How long an exited membership is kept. */
  retentionMs: number;
  /** Qualifying member ids, strictly increasing. */
  qualifying: AsyncIterable<string>;
  /** The segment's memberships, any status, in memberId order. */
  memberships: AsyncIterable<MembershipState>;
  writer: MembershipWriter;
  /** Changes written per batch. */
  batchSize?: number;
  /** Called with the members looked at so far, every `progressEvery` members. */
  onProgress?: (membersEvaluated: number) => Promise<void>;
  progressEvery?: number;
}

export interface SegmentDiffResult {
  realized: number;
  existing: number;
  exited: number;
  membersEvaluated: number;
}

/** Orders ids as MongoDB does (UTF-8 bytes, i.e. code points), not by UTF-16 units. */
export function compareIds(a: string, b: string): number {
  if (a === b) return 0;
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Below the surrogates, UTF-16 units order like code points.
    if (x < 0xd800 && y < 0xd800) return x - y;
    return (a.codePointAt(i) ?? 0) - (b.codePointAt(i) ?? 0);
  }
  return a.length - b.length;
}

export async function diffSegment(input: SegmentDiffInput): Promise<SegmentDiffResult> {
  const { segmentId, memberType, runId, at, writer } = input;
  const batchSize = input.batchSize ?? 500;
  const progressEvery = input.progressEvery ?? 2_000;
  const expiresAt = new Date(at.getTime() + input.retentionMs);
  const counts: SegmentDiffResult = { realized: 0, existing: 0, exited: 0, membersEvaluated: 0 };
  let events: NewMembershipEvent[] = [];
  let transitions: MembershipTransition[] = [];

  const flush = async () => {
    if (transitions.length === 0) return;
    // The event first: if the process dies between the two writes, the rerun sees the old state, decides the same change and finds its event written.
    if (events.length > 0) await writer.appendEvents(events);
    await writer.applyTransitions(transitions);
    events = [];
    transitions = [];
  };
  const change = async (transition: MembershipTransition, status?: 'realized' | 'exited') => {
    transitions.push(transition);
    if (status) events.push({ segmentId, memberId: transition.memberId, memberType, status, occurredAt: at, cause: { kind: 'batch', runId } });
    if (transitions.length >= batchSize) await flush();
  };
  const looked = async () => {
    counts.membersEvaluated++;
    if (input.onProgress && counts.membersEvaluated % progressEvery === 0) await input.onProgress(counts.membersEvaluated);
  };

  const qualifying = input.qualifying[Symbol.asyncIterator]();
  const memberships = input.memberships[Symbol.asyncIterator]();
  let previousId: string | undefined;
  const nextQualifying = async (): Promise<string | undefined> => {
    for (;;) {
      const step = await qualifying.next();
      if (step.done) return undefined;
      const order = previousId === undefined ? 1 : compareIds(step.value, previousId);
      if (order === 0) continue;
      // A merge join on an unsorted input would exit members that qualify: refuse it.
      if (order < 0) throw new DomainError(ErrorCode.Internal, `Qualifying members of segment ${segmentId} are not sorted by id (${step.value} after ${previousId})`);
      previousId = step.value;
      return step.value;
    }
  };
  const nextMembership = async () => {
    const step = await memberships.next();
    return step.done ? undefined : step.value;
  };

  try {
    let q = await nextQualifying();
    let m = await nextMembership();
    while (q !== undefined || m !== undefined) {
      const order = q === undefined ? 1 : m === undefined ? -1 : compareIds(q, m.memberId);
      if (order < 0) {
        // Qualifies, no membership: a new member.
        await change({ kind: 'enter', from: null, segmentId, memberId: q!, memberType, runId, at }, 'realized');
        counts.realized++;
        q = await nextQualifying();
      } else if (order === 0) {
        const current = m!;
        if (current.runId === runId) counts[current.status]++;
        else if (current.status === 'exited') {
          await change({ kind: 'enter', from: 'exited', segmentId, memberId: current.memberId, memberType, runId, at }, 'realized');
          counts.realized++;
        } else {
          if (current.status === 'realized') await change({ kind: 'stay', segmentId, memberId: current.memberId, runId, at });
          counts.existing++;
        }
        q = await nextQualifying();
        m = await nextMembership();
      } else {
        // A membership whose member does not qualify.
        const current = m!;
        // Changed by an earlier attempt of this run: counted as that attempt left it.
        if (current.runId === runId) counts[current.status]++;
        else if (current.status !== 'exited') {
          await change({ kind: 'exit', segmentId, memberId: current.memberId, runId, at, expiresAt }, 'exited');
          counts.exited++;
        }
        m = await nextMembership();
      }
      await looked();
    }
    await flush();
  } finally {
    await qualifying.return?.();
    await memberships.return?.();
  }
  return counts;
}
