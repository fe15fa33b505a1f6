/**
 * Delivers one activation, one step at a time, for a worker holding its lease
 * (epoch). A step is one batch of at most the connector's `maxBatchSize`
 * members, in this order of precedence:
 *
 *   1. a batch in flight when a worker died, sent again with the same run id
 *      (so files get the same names and webhook events the same ids);
 *   2. after deactivation with `removeMembers`: a page of current members removed;
 *   3. the backfill: a page of the segment's current members added (the first
 *      activation, and each scheduled FULL file run);
 *   4. retries that are due;
 *   5. the next changes of the membership event log after the stored position,
 *      up to where the log is sealed (logSeal.ts), one change per member (its latest).
 *
 * Each step records its outcome (retries, dead letters) before it advances the
 * stored position, so a worker killed anywhere resends at most the batch it was
 * sending, which connectors make harmless at the destination.
 */
import type { Db } from 'mongodb';
import { countDeliveries } from '../../../lib/metrics/jobMetrics.js';
import { SegmentHolds } from '../../../lib/segmentHolds.js';
import { currentMemberPages, segmentChangesAfter, type MemberPages } from '../../segment/segment.view.js';
import { asConnectorFailure, createConnector, type Connector, type DeliveryCounts } from '../connectors/index.js';
import { DestinationsRepository } from '../destinations.repository.js';
import { ActivationLeasesRepository } from './activationLeases.repository.js';
import { ActivationsRepository, LeaseLostError, ZERO_COUNTS, type ActivationRecord, type MemberPass } from './activations.repository.js';
import { batchParts, deliverSafely, planOutcome, type ChangeEntry } from './changeOutcomes.js';
import type { DeliveryEnvironment } from './deliveryEnvironment.js';
import { resolveMembers } from './deliveryMembers.js';
import { FailedChangesRepository, type FailedChange } from './failedChanges.repository.js';

export { LeaseLostError };

export interface StepResult {
  /** Something was done; another step may have more to do. */
  worked: boolean;
  counts: DeliveryCounts;
  /** The run id of the batch sent, when one was. */
  runId?: string;
  /** The activation needs no more delivery (INACTIVE, or gone). */
  finished?: boolean;
  /** Nothing to do before this time (a backfill not yet due, a destination held back). */
  wakeAt?: Date;
}

export interface DrainResult {
  counts: DeliveryCounts;
  batches: number;
  finished: boolean;
  wakeAt?: Date;
}

/** Log changes read per step beyond a batch, when a crashed batch is read again. */
const RESUME_READ_LIMIT = 10_000;

export function holderName(activationId: string): string {
  return `activation:${activationId}`;
}

export function isFullFileActivation(activation: Pick<ActivationRecord, 'destinationType' | 'options'>): boolean {
  return activation.destinationType === 'CLOUD_STORAGE' && activation.options.mode === 'FULL';
}

function addCounts(a: DeliveryCounts, b: DeliveryCounts): DeliveryCounts {
  return { delivered: a.delivered + b.delivered, removed: a.removed + b.removed, failed: a.failed + b.failed, excluded: a.excluded + b.excluded };
}

export class ActivationDelivery {
  private readonly db: Db;
  private readonly activations: ActivationsRepository;
  private readonly failed: FailedChangesRepository;
  /** The member pages of the pass under way, kept across steps of one drain so a backfill reads its segment once. */
  private pages: { runId: string; kind: 'backfill' | 'removal'; after: string | null; reader: MemberPages } | undefined;

  constructor(
    private readonly env: DeliveryEnvironment,
    private readonly sandbox: string,
    private readonly activationId: string,
    private readonly epoch: number,
  ) {
    this.db = env.databases.sandbox(sandbox);
    this.activations = new ActivationsRepository(this.db);
    this.failed = new FailedChangesRepository(this.db);
  }

  /** Takes the activation for this epoch; false when a later lease holds it. */
  async fence(): Promise<boolean> {
    await this.failed.ensureIndexes();
    return this.activations.fence(this.activationId, this.epoch);
  }

  /** Steps until nothing is left to do (or `maxSteps`, or `isHeld` says the lease is gone); records the run. */
  async drain(options: { maxSteps?: number; isHeld?: () => boolean } = {}): Promise<DrainResult> {
    const startedAt = this.env.now();
    let counts = ZERO_COUNTS;
    let batches = 0;
    let runId: string | undefined;
    let last: StepResult = { worked: false, counts: ZERO_COUNTS };
    try {
      for (let steps = 0; steps < (options.maxSteps ?? Number.POSITIVE_INFINITY); steps++) {
        if (options.isHeld && !options.isHeld()) break;
        last = await this.step();
        counts = addCounts(counts, last.counts);
        if (last.runId) {
          batches++;
          runId ??= last.runId;
        }
        if (!last.worked || last.finished) break;
      }
    } finally {
      await this.closePages();
    }
    if (runId && !last.finished) await this.activations.recordRun(this.activationId, this.epoch, { runId, startedAt, finishedAt: this.env.now(), ...counts });
    return { counts, batches, finished: last.finished === true, wakeAt: last.wakeAt };
  }

  /** Starts a FULL file run: every current member written again under a new run id. */
  async startFullRun(): Promise<void> {
    await this.activations.startPass(this.activationId, this.epoch, { done: false, after: null, runId: this.env.runIds(), sequence: 0, notBefore: this.env.now() });
  }

  async step(): Promise<StepResult> {
    const activation = await this.activations.find(this.activationId);
    if (!activation || activation.status === 'INACTIVE') return { worked: false, counts: ZERO_COUNTS, finished: true };
    if (activation.leaseEpoch !== this.epoch) throw new LeaseLostError(this.activationId);
    const now = this.env.now();
    if (activation.blocked && activation.blocked.until > now) return { worked: false, counts: ZERO_COUNTS, wakeAt: activation.blocked.until };

    const connector = await this.connectorFor(activation);
    if (!connector) return { worked: false, counts: ZERO_COUNTS, wakeAt: new Date(now.getTime() + this.env.settings.blockedRetryMs) };

    if (activation.inflight) return this.resendInflight(activation, connector);
    if (activation.status === 'DEACTIVATING') return this.removalStep(activation, connector);
    if (!activation.backfill.done) {
      if (activation.backfill.notBefore > now) return { worked: false, counts: ZERO_COUNTS, wakeAt: activation.backfill.notBefore };
      return this.passStep(activation, connector, 'backfill', activation.backfill);
    }
    const due = await this.failed.due(this.activationId, now, connector.maxBatchSize);
    if (due.length > 0) return this.retryStep(activation, connector, this.env.runIds(), due);
    const result = await this.eventsStep(activation, connector);
    if (result.worked) return result;
    // Idle: the next retry says when there is work again (a scheduled run comes back for it).
    return { ...result, wakeAt: (await this.failed.nextAttemptAt(this.activationId)) ?? undefined };
  }

  /** The destination's connector; null (and the activation marked blocked) when the destination cannot be used as configured. */
  private async connectorFor(activation: ActivationRecord): Promise<Connector | null> {
    const found = await new DestinationsRepository(this.db).findWithCredentials(activation.destinationId);
    if (!found) return this.block('DESTINATION_NOT_FOUND', 'The destination was deleted');
    try {
      const credentials = found.credentials ? this.env.vault.open(found.credentials) : null;
      return createConnector({ type: found.destination.type, config: found.destination.config, credentials }, this.env.connectorDeps);
    } catch (error) {
      const failure = asConnectorFailure(error);
      return this.block(failure.code, failure.message);
    }
  }

  private async block(code: string, message: string): Promise<null> {
    const until = new Date(this.env.now().getTime() + this.env.settings.blockedRetryMs);
    this.env.logger.warn({ sandbox: this.sandbox, activationId: this.activationId, code }, 'Activation held back: its destination cannot be used');
    await this.activations.progress(this.activationId, this.epoch, { blocked: { code, message, until } }, this.env.now());
    return null;
  }

  /** Sends entries as one batch and stores what became of each; returns the counts. */
  private async send(activation: ActivationRecord, connector: Connector, entries: ChangeEntry[], runId: string, sequence: number, prior: ReadonlyMap<string, FailedChange>): Promise<DeliveryCounts> {
    if (entries.length === 0) return ZERO_COUNTS;
    const { adds, removes, ordered } = batchParts(entries);
    const outcome = await deliverSafely(connector, {
      activationId: activation.id,
      segmentId: activation.segmentId,
      runId,
      sequence,
      memberType: activation.memberType,
      adds,
      removes,
      mapping: activation.mapping,
      options: activation.options,
    });
    const plan = planOutcome(activation.id, ordered, outcome, prior, { now: this.env.now(), settings: this.env.settings, random: this.env.random });
    await this.failed.record(activation.id, plan);
    if (plan.retry.length > 0 || plan.dead.length > 0) {
      this.env.logger.warn({ sandbox: this.sandbox, activationId: activation.id, retry: plan.retry.length, dead: plan.dead.length }, 'Some changes were not delivered');
    }
    countDeliveries(connector.type, outcome.counts);
    return outcome.counts;
  }

  private async entries(activation: ActivationRecord, ids: string[], operations: Map<string, ChangeEntry['operation']>): Promise<ChangeEntry[]> {
    const members = await resolveMembers(this.db, activation.memberType, ids, activation.mapping);
    return members.map((member) => ({ member, operation: operations.get(member.memberId)! }));
  }

  private async closePages(): Promise<void> {
    const pages = this.pages;
    this.pages = undefined;
    await pages?.reader.close().catch(() => undefined);
  }

  /** The next page of the pass: from the reader left by the previous step when it stopped where the pass stands. */
  private async nextPage(activation: ActivationRecord, kind: 'backfill' | 'removal', pass: MemberPass, pageSize: number) {
    if (!this.pages || this.pages.runId !== pass.runId || this.pages.kind !== kind || this.pages.after !== pass.after) {
      await this.closePages();
      this.pages = { runId: pass.runId, kind, after: pass.after, reader: currentMemberPages(this.db, activation.segmentId, { after: pass.after ?? undefined, pageSize }) };
    }
    const page = await this.pages.reader.next();
    this.pages.after = page.at(-1)?.memberId ?? pass.after;
    if (page.length < pageSize) await this.closePages();
    return page;
  }

  /** A page of current members: added (backfill, FULL run) or removed (deactivation). */
  private async passStep(activation: ActivationRecord, connector: Connector, kind: 'backfill' | 'removal', pass: MemberPass): Promise<StepResult> {
    const page = await this.nextPage(activation, kind, pass, connector.maxBatchSize);
    const operation = kind === 'backfill' ? 'add' : 'remove';
    const ids = page.map((member) => member.memberId);
    const prior = await this.failed.findForMembers(activation.id, ids);
    const entries = await this.entries(activation, ids, new Map(ids.map((id) => [id, operation])));
    const counts = await this.send(activation, connector, entries, pass.runId, pass.sequence, prior);
    const next: MemberPass = { ...pass, after: ids.at(-1) ?? pass.after, sequence: pass.sequence + 1, done: page.length < connector.maxBatchSize };
    const update = kind === 'backfill' ? { backfill: next } : { removal: next };
    await this.activations.progress(activation.id, this.epoch, { ...update, counts, blocked: null }, this.env.now());
    if (kind === 'backfill' && next.done && activation.destinationType === 'CLOUD_STORAGE') await this.activations.recordFileRun(activation.id, pass.runId);
    return { worked: true, counts, runId: pass.runId };
  }

  private async removalStep(activation: ActivationRecord, connector: Connector): Promise<StepResult> {
    if (activation.removal && !activation.removal.done) return this.passStep(activation, connector, 'removal', activation.removal);
    const due = await this.failed.due(this.activationId, this.env.now(), connector.maxBatchSize);
    if (due.length > 0) return this.retryStep(activation, connector, this.env.runIds(), due);
    // Removed every member, and nothing waits for a retry: the activation is over.
    if ((await this.failed.countRetries(activation.id)) > 0) return { worked: false, counts: ZERO_COUNTS, wakeAt: (await this.failed.nextAttemptAt(activation.id)) ?? undefined };
    await this.finish(activation);
    return { worked: false, counts: ZERO_COUNTS, finished: true };
  }

  private async finish(activation: ActivationRecord): Promise<void> {
    await this.activations.progress(activation.id, this.epoch, { status: 'INACTIVE' }, this.env.now());
    await new SegmentHolds(this.db).remove(activation.segmentId, holderName(activation.id));
    await new ActivationLeasesRepository(this.env.databases.platform()).remove(this.sandbox, activation.id);
  }

  private async retryStep(activation: ActivationRecord, connector: Connector, runId: string, retries: FailedChange[]): Promise<StepResult> {
    const memberIds = retries.map((retry) => retry.memberId);
    if (!activation.inflight) await this.activations.progress(activation.id, this.epoch, { inflight: { kind: 'retries', runId, memberIds } }, this.env.now());
    const prior = new Map(retries.map((retry) => [retry.memberId, retry]));
    const entries = await this.entries(activation, memberIds, new Map(retries.map((retry) => [retry.memberId, retry.operation])));
    const counts = await this.send(activation, connector, entries, runId, 0, prior);
    await this.activations.progress(activation.id, this.epoch, { inflight: null, counts, blocked: null }, this.env.now());
    return { worked: true, counts, runId };
  }

  private async eventsStep(activation: ActivationRecord, connector: Connector): Promise<StepResult> {
    const sealed = await this.env.seals.sealedThrough(this.db, activation.position);
    if (sealed <= activation.position) return { worked: false, counts: ZERO_COUNTS };
    const limit = connector.maxBatchSize;
    const changes = await segmentChangesAfter(this.db, activation.segmentId, activation.position, limit);
    const sealedChanges = changes.filter((change) => change.position <= sealed);
    // A full page may end before `sealed`; otherwise every change of the segment up to `sealed` is in hand.
    const through = changes.length === limit && sealedChanges.length === limit ? sealedChanges.at(-1)!.position : sealed;
    if (sealedChanges.length === 0 || isFullFileActivation(activation)) {
      // Nothing of this segment (or FULL files, which scheduled runs rewrite whole): move on.
      await this.activations.progress(activation.id, this.epoch, { position: through }, this.env.now());
      return { worked: sealedChanges.length > 0, counts: ZERO_COUNTS };
    }
    const runId = this.env.runIds();
    await this.activations.progress(activation.id, this.epoch, { inflight: { kind: 'events', runId, through } }, this.env.now());
    return this.sendChanges(activation, connector, runId, through, sealedChanges);
  }

  private async sendChanges(activation: ActivationRecord, connector: Connector, runId: string, through: number, changes: Array<{ memberId: string; status: 'realized' | 'exited' }>): Promise<StepResult> {
    // The latest change of each member is the one that counts; adds and removes are idempotent.
    const latest = new Map<string, ChangeEntry['operation']>();
    for (const change of changes) {
      latest.delete(change.memberId);
      latest.set(change.memberId, change.status === 'realized' ? 'add' : 'remove');
    }
    const ids = [...latest.keys()];
    const prior = await this.failed.findForMembers(activation.id, ids);
    const counts = await this.send(activation, connector, await this.entries(activation, ids, latest), runId, 0, prior);
    await this.activations.progress(activation.id, this.epoch, { inflight: null, position: through, counts, blocked: null }, this.env.now());
    return { worked: true, counts, runId };
  }

  /** The batch a dead worker was sending, rebuilt from what it stored, under the same run id. */
  private async resendInflight(activation: ActivationRecord, connector: Connector): Promise<StepResult> {
    const inflight = activation.inflight!;
    if (inflight.kind === 'retries') {
      const retries = await this.failed.retriesOf(activation.id, inflight.memberIds ?? []);
      return this.retryStep(activation, connector, inflight.runId, retries);
    }
    const through = inflight.through ?? activation.position;
    const changes = (await segmentChangesAfter(this.db, activation.segmentId, activation.position, RESUME_READ_LIMIT)).filter((change) => change.position <= through);
    return this.sendChanges(activation, connector, inflight.runId, through, changes);
  }
}
