/**
 * The streaming evaluator of one sandbox, run while this worker holds the sandbox's lease.
 * Each turn of its loop reads a batch of changes (waiting briefly when there are none), takes
 * the wake-ups that came due and a page of any pending pass, evaluates the affected members
 * in chunks, then saves the resume token with its status. At-least-once processing (the token
 * is saved after the writes) with idempotent writes (see memberEvaluation.ts) gives each
 * change its effects exactly once. A turn never starts writing unless the lease has time left,
 * and every write of its state is fenced by the lease epoch.
 *
 * While it holds the lease it keeps what it read and wrote of recent members in memory (their
 * events, membership statuses and wake-ups: known*.ts), kept current by the same stream and by
 * its own writes, and forgotten when the stream starts over; a warm member costs no reads.
 */
import type { Db } from 'mongodb';
import type { Logger } from '../../../lib/logger.js';
import { reportStreamingLag, segmentEvaluations } from '../../../lib/metrics/jobMetrics.js';
import { pageAccountIds } from '../../account/accountChanges.view.js';
import { pagePersonIds } from '../../profile/profileChanges.view.js';
import type { TargetEntity } from '../language/index.js';
import { MembershipEventsRepository } from '../memberships/membershipEvents.repository.js';
import { MembershipsRepository } from '../memberships/memberships.repository.js';
import { SegmentsRepository } from '../segments.repository.js';
import { affectedMembers, segmentDefinitionChanges } from './affectedMembers.js';
import { ChangeFeed, isLostHistory, type FeedChange } from './changeFeed.repository.js';
import { KnownEvents } from './knownEvents.js';
import { KnownStatuses } from './knownStatuses.js';
import { KnownWakeUps } from './knownWakeUps.js';
import type { AffectedMember, PendingPass, StreamingStatus } from './layout.js';
import { evaluateMembers, writeStampedEvents, type BatchOutcome, type EvaluationDeps } from './memberEvaluation.js';
import type { HeldLease, PartitionState, PartitionsRepository } from './partitions.repository.js';
import { timed } from './phases.js';
import { SegmentCatalog } from './segmentCatalog.js';
import { WakeUpsRepository } from './wakeUps.repository.js';

export interface PartitionSettings {
  /** Changes per batch at most. */
  batchSize: number;
  /** Members evaluated and written per chunk (and per pass page). */
  memberChunk: number;
  /** How long a read waits on the server for a change; also how often due wake-ups are looked for. */
  maxAwaitMs: number;
  /** The status and resume token are saved at least this often while idle. */
  heartbeatMs: number;
  retentionMs: number;
}

export interface PartitionDeps {
  sandbox: string;
  db: Db;
  lease: HeldLease;
  /** Where the lease and the evaluation's state are kept (the platform database). */
  partitions: PartitionsRepository;
  logger: Logger;
  /** The evaluation clock (`now` in the segment language, wake-up times). */
  now: () => Date;
  /** Wall-clock milliseconds, for lag and heartbeats. */
  wall: () => number;
  batchIds: () => string;
  /** Whether the lease has enough time left to start writing. */
  canWrite: () => boolean;
  settings: PartitionSettings;
}

/** The lease was lost: stop at once, write nothing more. */
export class LeaseLostError extends Error {
  constructor(sandbox: string) {
    super(`The streaming lease of sandbox ${sandbox} was lost`);
    this.name = 'LeaseLostError';
  }
}

const PAGE_OF: Record<TargetEntity, (db: Db, after: string | null, limit: number) => Promise<string[]>> = {
  PERSON: pagePersonIds,
  ACCOUNT: pageAccountIds,
};

const tokenKey = (token: unknown): string => JSON.stringify(token ?? null);

/** Merges members reached several ways: the first cause is kept; "every segment" wins over a list. */
function merge(lists: ReadonlyArray<readonly AffectedMember[]>): AffectedMember[] {
  const merged = new Map<string, AffectedMember>();
  for (const list of lists) {
    for (const member of list) {
      const key = `${member.target}:${member.id}`;
      const seen = merged.get(key);
      if (!seen) merged.set(key, member);
      else if (seen.segmentIds !== null) {
        const segmentIds = member.segmentIds === null ? null : [...new Set([...seen.segmentIds, ...member.segmentIds])];
        merged.set(key, { ...seen, segmentIds });
      }
    }
  }
  return [...merged.values()];
}

export class Partition {
  private stopping = false;
  private readonly wakeUps: KnownWakeUps;
  private readonly knownEvents: KnownEvents;
  private readonly knownStatuses: KnownStatuses;
  private readonly segments: SegmentsRepository;
  private readonly evaluation: EvaluationDeps;
  private catalog = SegmentCatalog.empty();
  private feed: ChangeFeed | null = null;
  private passes: PendingPass[] = [];
  private initialized = false;
  private nextWakeUp: Date | null = null;
  private lastCheckpointAt = 0;
  private lastChangeAt: Date | null = null;
  private savedToken: unknown = null;

  constructor(private readonly deps: PartitionDeps) {
    this.wakeUps = new KnownWakeUps(new WakeUpsRepository(deps.db));
    this.knownEvents = new KnownEvents(deps.db);
    this.segments = new SegmentsRepository(deps.db);
    const memberships = new MembershipsRepository(deps.db);
    this.knownStatuses = new KnownStatuses(memberships);
    const events = new MembershipEventsRepository(deps.db);
    this.evaluation = {
      db: deps.db,
      memberships,
      events,
      wakeUps: this.wakeUps,
      statuses: this.knownStatuses,
      sources: { findEvents: this.knownEvents.find },
      retentionMs: deps.settings.retentionMs,
    };
  }

  /** Asks the loop to stop after its current turn. */
  stop(): void {
    this.stopping = true;
  }

  /** Runs until stopped or the lease is lost; `state` is what the takeover read. */
  async run(state: PartitionState): Promise<void> {
    const { logger } = this.deps;
    await Promise.all([this.wakeUps.repository.ensureIndexes(), this.evaluation.memberships.ensureIndexes(), this.evaluation.events.ensureIndexes()]);
    if (state.inFlight) {
      // The previous holder died mid-batch: its stamped memberships get their events; its changes are evaluated again.
      const written = await writeStampedEvents(this.evaluation, state.inFlight);
      if (!(await this.deps.partitions.clearInFlight(this.deps.lease))) throw new LeaseLostError(this.deps.sandbox);
      logger.info({ batchId: state.inFlight.batchId, written }, 'Finished the events of a batch left in flight');
    }
    this.passes = state.passes;
    this.initialized = state.initialized;
    this.lastChangeAt = state.status.lastChangeAt;
    this.savedToken = state.resumeToken;
    this.catalog = await this.catalog.reload(this.segments, logger);
    this.nextWakeUp = await this.wakeUps.repository.earliest();
    this.openFeed(state.resumeToken);
    try {
      while (!this.stopping) await this.turn();
    } finally {
      await this.feed?.close();
    }
  }

  private openFeed(resumeToken: unknown): void {
    if (!resumeToken || !this.initialized) {
      // What the stream skipped is unknown (a dropped database took its wake-ups too): read everything afresh.
      this.knownEvents.forget();
      this.knownStatuses.forget();
      this.wakeUps.forget();
      // A first start (or a lost history): evaluate everything once, then follow the stream from here.
      const since = new Date(this.deps.wall());
      this.passes = [
        { target: 'PERSON', segmentIds: null, after: null, since },
        { target: 'ACCOUNT', segmentIds: null, after: null, since },
      ];
      this.initialized = true;
    }
    this.feed = new ChangeFeed(this.deps.db, {
      resumeToken: this.initialized && resumeToken ? resumeToken : null,
      usedSegments: this.catalog.usedSegmentIds,
      maxAwaitMs: this.deps.settings.maxAwaitMs,
      serverBatchSize: this.deps.settings.batchSize,
    });
  }

  /** The stream again from the last change read, when the segments `inSegment` uses changed (its filter names them). */
  private async refilterFeed(usedBefore: readonly string[]): Promise<void> {
    if (usedBefore.join() === this.catalog.usedSegmentIds.join()) return;
    const resumeToken = this.feed!.resumeToken;
    await this.feed!.close();
    this.openFeed(resumeToken);
  }

  private async readChanges(): Promise<FeedChange[]> {
    try {
      const changes = await this.feed!.read(this.deps.settings.batchSize);
      if (this.feed!.invalidated) {
        // The sandbox database was dropped (a reset): start again from its new, empty state.
        this.deps.logger.info('Change stream invalidated; starting afresh');
        await this.feed!.close();
        this.initialized = false;
        this.openFeed(null);
      }
      return changes;
    } catch (error) {
      if (!isLostHistory(error)) throw error;
      this.deps.logger.warn({ err: error }, 'The stored resume token is too old; evaluating every member again');
      await this.feed!.close();
      this.initialized = false;
      this.openFeed(null);
      return [];
    }
  }

  private async turn(): Promise<void> {
    const { settings } = this.deps;
    const changes = await timed('read', () => this.readChanges());
    this.knownEvents.observe(changes);
    this.knownStatuses.observe(changes);
    const now = this.deps.now();
    const due = this.nextWakeUp !== null && this.nextWakeUp <= now ? await this.wakeUps.repository.due(now, settings.memberChunk) : [];
    const pass = this.passes[0];
    const passIds = pass ? await PAGE_OF[pass.target](this.deps.db, pass.after, settings.memberChunk) : [];
    const idle = changes.length === 0 && due.length === 0 && !pass;
    if (idle) {
      // None due after all: the known earliest was removed or moved later.
      if (this.nextWakeUp !== null && this.nextWakeUp <= now) this.nextWakeUp = await timed('wake_ups', () => this.wakeUps.repository.earliest());
      if (this.deps.wall() - this.lastCheckpointAt >= settings.heartbeatMs || tokenKey(this.feed!.resumeToken) !== tokenKey(this.savedToken)) {
        await this.checkpoint({ lagMs: 0, pendingChanges: 0, lastChangeAt: this.lastChangeAt });
      }
      return;
    }

    const definitions = segmentDefinitionChanges(changes);
    if (definitions.length > 0) {
      const usedBefore = this.catalog.usedSegmentIds;
      this.catalog = await this.catalog.reload(this.segments, this.deps.logger);
      await this.refilterFeed(usedBefore);
      for (const definition of definitions) {
        if (definition.kind === 'deleted') await this.wakeUps.removeSegment(definition.segmentId);
        else if (definition.target && this.catalog.has(definition.segmentId)) this.addPass(definition.target, definition.segmentId);
      }
    }
    // Wake-ups of segments gone since are dropped rather than evaluated.
    const stale = due.filter((wakeUp) => !this.catalog.has(wakeUp.segmentId));
    await this.wakeUps.remove(stale);

    const members = merge([
      await timed('affected', () => affectedMembers(this.deps.db, this.catalog, changes, now)),
      due.filter((wakeUp) => this.catalog.has(wakeUp.segmentId)).map((wakeUp) => ({ id: wakeUp.memberId, target: wakeUp.target, cause: { kind: 'wakeUp' as const, dueAt: wakeUp.at }, segmentIds: [wakeUp.segmentId] })),
      pass ? passIds.map((id) => ({ id, target: pass.target, cause: { kind: 'change' as const, collection: 'segments', operation: 'evaluate', documentId: pass.segmentIds?.length === 1 ? pass.segmentIds[0]! : null }, segmentIds: pass.segmentIds })) : [],
    ])
      // A member reached for no segment, or of a target without streaming segments, has nothing to evaluate.
      .filter((member) => (member.segmentIds === null ? this.catalog.ordered(member.target).length > 0 : member.segmentIds.length > 0));
    /** The earliest wake-up this turn stored. */
    let written: Date | null = null;
    for (let start = 0; start < members.length; start += settings.memberChunk) {
      const chunk = members.slice(start, start + settings.memberChunk);
      if (this.stopping && start > 0) return; // the token is not saved: the batch is evaluated again by the next holder
      let outcome = await this.evaluateChunk(chunk, now);
      // Another writer changed some of these memberships first: once more, from what they hold now.
      if (outcome.missed) outcome = await this.evaluateChunk(chunk, now);
      if (outcome.earliestWakeUp && (written === null || outcome.earliestWakeUp < written)) written = outcome.earliestWakeUp;
    }
    if (pass) {
      if (passIds.length < settings.memberChunk) this.passes.shift();
      else pass.after = passIds[passIds.length - 1]!;
    }
    if (this.nextWakeUp !== null && this.nextWakeUp <= now) {
      // Due wake-ups were taken (and rewritten or removed), or the known earliest was removed since: ask again.
      this.nextWakeUp = await timed('wake_ups', () => this.wakeUps.repository.earliest());
    } else if (written !== null && (this.nextWakeUp === null || written < this.nextWakeUp)) {
      // Only this partition writes the sandbox's wake-ups: a removed or later one leaves this early, which costs one look.
      this.nextWakeUp = written;
    }
    const wallTimes = changes.map((change) => change.wallTime?.getTime()).filter((t): t is number => t !== undefined);
    if (wallTimes.length > 0) this.lastChangeAt = new Date(Math.max(...wallTimes, this.lastChangeAt?.getTime() ?? 0));
    // Behind by the oldest change of the batch, or by a pass still running: its members may not be current yet.
    const oldest = Math.min(...wallTimes, ...this.passes.map((pass) => pass.since.getTime()));
    await this.checkpoint({
      lagMs: oldest === Number.POSITIVE_INFINITY ? 0 : Math.max(0, this.deps.wall() - oldest),
      pendingChanges: this.feed!.buffered(),
      lastChangeAt: this.lastChangeAt,
    });
  }

  /** Evaluates and writes one chunk of members as a batch, recorded in flight (while its members load) before any write. */
  private async evaluateChunk(chunk: readonly AffectedMember[], now: Date): Promise<BatchOutcome> {
    if (!this.deps.canWrite()) throw new LeaseLostError(this.deps.sandbox);
    const batchId = this.deps.batchIds();
    const recorded = timed('begin', () => this.deps.partitions.begin(this.deps.lease, { batchId, members: chunk.map(({ id, target, cause }) => ({ id, target, cause })) })).then(
      (held) => {
        if (!held) throw new LeaseLostError(this.deps.sandbox);
      },
    );
    // Awaited by the evaluation before its first write; left unawaited only when the load fails first.
    recorded.catch(() => undefined);
    const outcome = await evaluateMembers(this.evaluation, this.catalog, batchId, chunk, now, recorded);
    segmentEvaluations.labels('streaming').inc(chunk.length);
    return outcome;
  }

  /** Queues a pass over the target for a new or changed segment; a pass not started yet takes it in. */
  private addPass(target: TargetEntity, segmentId: string): void {
    const waiting = this.passes.find((pass) => pass.target === target && pass.after === null && pass !== this.passes[0]);
    if (waiting) {
      if (waiting.segmentIds !== null && !waiting.segmentIds.includes(segmentId)) waiting.segmentIds.push(segmentId);
      return;
    }
    this.passes.push({ target, segmentIds: [segmentId], after: null, since: new Date(this.deps.wall()) });
  }

  private async checkpoint(status: StreamingStatus): Promise<void> {
    const resumeToken = this.feed!.resumeToken;
    const saved = await timed('checkpoint', () =>
      this.deps.partitions.checkpoint(this.deps.lease, {
        resumeToken,
        initialized: this.initialized,
        passes: this.passes,
        status,
        heartbeatAt: new Date(this.deps.wall()),
      }),
    );
    if (!saved) throw new LeaseLostError(this.deps.sandbox);
    reportStreamingLag(this.deps.sandbox, status.lagMs);
    this.savedToken = resumeToken;
    this.lastCheckpointAt = this.deps.wall();
  }
}
