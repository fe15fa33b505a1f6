/**
 * Activation rules: a segment of this sandbox goes to a destination of this
 * sandbox, streaming or on a cron, with a mapping and options the destination's
 * connector accepts. Activating holds the segment (it cannot be deleted while
 * activated), remembers the event log's position (changes after it are
 * streamed) and queues the backfill of every current member. Any caller reads;
 * every change needs the admin role, as destinations do.
 */
import type { Db } from 'mongodb';
import { requireRole } from '../../../lib/auth/roles.js';
import { badInput, DomainError, ErrorCode, notFound } from '../../../lib/errors.js';
import { SegmentHolds } from '../../../lib/segmentHolds.js';
import type { ServiceDeps } from '../../../lib/subgraph/context.js';
import { parsePageArgs, type PageArgs } from '../../../lib/subgraph/pagination.js';
import { parseJsonObject, type JsonObject } from '../../../lib/subgraph/scalars.js';
import { findSegments, lastChangePosition } from '../../segment/segment.view.js';
import { asConnectorFailure, createConnector, type Connector, type ConnectorDeps } from '../connectors/index.js';
import type { CredentialsVault } from '../../../lib/crypto/credentialsVault.js';
import { DestinationsRepository, type DestinationRecord } from '../destinations.repository.js';
import { holderName } from './activationDelivery.js';
import { ActivationLeasesRepository } from './activationLeases.repository.js';
import { parseMapping } from './activationMapping.js';
import { ActivationsRepository, ZERO_COUNTS, type ActivationRecord } from './activations.repository.js';
import { parseSchedule, STREAMING_SCHEDULE, type ActivationScheduling } from './activationScheduler.js';
import { FailedChangesRepository, type FailedChange } from './failedChanges.repository.js';
import { reconcileActivation, type ReconcileReport } from './reconcile.js';

export interface ActivateSegmentInput {
  destinationId: string;
  segmentId: string;
  schedule: string;
  mapping?: JsonObject | null;
  options?: JsonObject | null;
}

export interface ActivationServiceDeps extends ServiceDeps {
  sandbox: string;
  db: Db;
  platform: Db;
  vault: CredentialsVault;
  connectorDeps: ConnectorDeps;
  scheduling: ActivationScheduling;
  /** How long after activating the backfill starts (the event log's seal window). */
  backfillDelayMs: number;
}

/** Dead letters re-driven by one call at most; call again for more. */
export const MAX_REDRIVE = 100_000;

export class ActivationService {
  private readonly activations: ActivationsRepository;
  private readonly failed: FailedChangesRepository;
  private readonly destinations: DestinationsRepository;
  private readonly holds: SegmentHolds;
  private readonly leases: ActivationLeasesRepository;

  constructor(private readonly deps: ActivationServiceDeps) {
    this.activations = new ActivationsRepository(deps.db);
    this.failed = new FailedChangesRepository(deps.db);
    this.destinations = new DestinationsRepository(deps.db);
    this.holds = new SegmentHolds(deps.db);
    this.leases = new ActivationLeasesRepository(deps.platform);
  }

  findByIds(ids: readonly string[]): Promise<ActivationRecord[]> {
    return this.activations.findByIds(ids);
  }

  listForSegments(segmentIds: readonly string[]): Promise<ActivationRecord[]> {
    return this.activations.listForSegments(segmentIds);
  }

  list(args: PageArgs & { segmentId?: string | null; destinationId?: string | null }): Promise<ActivationRecord[]> {
    const page = parsePageArgs(args);
    return this.activations.list({ segmentId: args.segmentId ?? undefined, destinationId: args.destinationId ?? undefined, after: page.after, limit: page.limit });
  }

  async activate(input: ActivateSegmentInput): Promise<ActivationRecord> {
    requireRole(this.deps.principal, 'admin');
    const now = this.deps.now();
    const schedule = parseSchedule(input.schedule ?? '', now);
    const found = await this.destinations.findWithCredentials(input.destinationId);
    if (!found) throw notFound('Destination', input.destinationId);
    const [segment] = await findSegments(this.deps.db, [input.segmentId]);
    if (!segment) throw notFound('Segment', input.segmentId);
    const memberType = segment.targetEntity;
    const mapping = parseMapping(input.mapping, memberType);
    const options = parseJsonObject(input.options ?? {});
    if (found.destination.type === 'CLOUD_STORAGE' && options.mode === 'FULL' && schedule === STREAMING_SCHEDULE) {
      throw badInput('FULL files hold the whole audience and are written on a schedule: give a cron schedule, or use mode INCREMENTAL to stream changes', { field: 'options.mode' });
    }
    const connector = this.connector(found.destination, found.credentials ? this.deps.vault.open(found.credentials) : null);
    const problems = connector.checkActivation({ memberType, mapping, options });
    if (problems.length > 0) throw badInput(`The destination cannot take this activation: ${problems.join('; ')}`, { field: 'input', problems });
    if (connector.ensureAudience) {
      // LinkedIn: the DMP segment is created once and its id kept in the options.
      try {
        options.dmpSegmentId = await connector.ensureAudience({ name: segment.name, memberType, existingId: typeof options.dmpSegmentId === 'string' ? options.dmpSegmentId : null });
      } catch (error) {
        const failure = asConnectorFailure(error);
        throw badInput(`The destination refused to create the audience (${failure.code}): ${failure.message}`, { field: 'destinationId', code: failure.code });
      }
    }

    const id = this.deps.ids('act');
    // The hold first, then the check that the segment still exists: a delete racing with this sees the hold or we see the delete.
    await this.holds.add(segment.id, holderName(id), now);
    if ((await findSegments(this.deps.db, [segment.id])).length === 0) {
      await this.holds.remove(segment.id, holderName(id));
      throw notFound('Segment', segment.id);
    }
    const activation = await this.activations.insert({
      id,
      segmentId: segment.id,
      destinationId: found.destination.id,
      destinationType: found.destination.type,
      memberType,
      schedule,
      mapping,
      options,
      status: 'ACTIVE',
      removeMembers: false,
      // Changes after this position are streamed; the members at this point are backfilled.
      position: await lastChangePosition(this.deps.db),
      backfill: { done: false, after: null, runId: this.deps.ids('run'), sequence: 0, notBefore: new Date(now.getTime() + this.deps.backfillDelayMs) },
      removal: null,
      inflight: null,
      lastRun: null,
      totals: { ...ZERO_COUNTS },
      blocked: null,
      leaseEpoch: 0,
      fileRunId: null,
      createdAt: now,
      updatedAt: now,
      deactivatedAt: null,
    });
    await this.failed.ensureIndexes();
    await this.leases.register(this.deps.sandbox, id, schedule === STREAMING_SCHEDULE);
    if (schedule !== STREAMING_SCHEDULE) await this.deps.scheduling.schedule(this.deps.sandbox, id, schedule);
    return activation;
  }

  /**
   * Stops delivering. With `removeMembers`, the worker first takes every current member out of
   * the destination (status DEACTIVATING until done); otherwise the activation is INACTIVE at once.
   */
  async deactivate(id: string, removeMembers: boolean): Promise<ActivationRecord> {
    requireRole(this.deps.principal, 'admin');
    const now = this.deps.now();
    const removal = removeMembers ? { done: false, after: null, runId: this.deps.ids('run'), sequence: 0, notBefore: now } : null;
    const updated = await this.activations.deactivate(id, removeMembers, removal, now);
    if (!updated) {
      const [current] = await this.activations.findByIds([id]);
      if (!current) throw notFound('Activation', id);
      throw new DomainError(ErrorCode.Conflict, `Activation ${JSON.stringify(id)} is already ${current.status}`, { details: { id, status: current.status } });
    }
    if (updated.schedule !== STREAMING_SCHEDULE) await this.deps.scheduling.cancel(this.deps.sandbox, id);
    if (removeMembers) {
      // The removal is streaming work whatever the schedule was: the delivery service takes it.
      await this.leases.register(this.deps.sandbox, id, true);
    } else {
      await this.leases.remove(this.deps.sandbox, id);
      await this.holds.remove(updated.segmentId, holderName(id));
    }
    return updated;
  }

  async deadLetters(activationId: string, args: PageArgs): Promise<{ nodes: FailedChange[]; totalCount: number; endCursor: string | null; hasNextPage: boolean }> {
    const page = parsePageArgs(args);
    const nodes = await this.failed.deadLetterPage(activationId, { after: page.after, limit: page.limit + 1 });
    const hasNextPage = nodes.length > page.limit;
    const shown = nodes.slice(0, page.limit);
    return { nodes: shown, totalCount: await this.failed.countDeadLetters(activationId), endCursor: shown.at(-1)?.memberId ?? null, hasNextPage };
  }

  pendingRetries(activationId: string): Promise<number> {
    return this.failed.countRetries(activationId);
  }

  /** Moves the activation's dead letters back to the retry queue, due now; answers how many. */
  async redrive(activationId: string): Promise<{ activation: ActivationRecord; redriven: number }> {
    requireRole(this.deps.principal, 'admin');
    const activation = await this.activations.find(activationId);
    if (!activation) throw notFound('Activation', activationId);
    let redriven = 0;
    for (let moved = -1; moved !== 0 && redriven < MAX_REDRIVE; ) {
      moved = await this.failed.redrive(activationId, this.deps.now(), 1_000);
      redriven += moved;
    }
    if (redriven > 0 && activation.status === 'ACTIVE' && activation.schedule !== STREAMING_SCHEDULE) await this.deps.scheduling.runNow(this.deps.sandbox, activationId);
    return { activation, redriven };
  }

  async reconcile(id: string): Promise<ReconcileReport & { activation: ActivationRecord }> {
    requireRole(this.deps.principal, 'admin');
    const activation = await this.activations.find(id);
    if (!activation) throw notFound('Activation', id);
    if (activation.status !== 'ACTIVE') throw new DomainError(ErrorCode.Conflict, `Activation ${JSON.stringify(id)} is ${activation.status}: only an active one is reconciled`, { details: { id } });
    const found = await this.destinations.findWithCredentials(activation.destinationId);
    if (!found) throw notFound('Destination', activation.destinationId);
    const connector = this.connector(found.destination, found.credentials ? this.deps.vault.open(found.credentials) : null);
    try {
      const report = await reconcileActivation({
        db: this.deps.db,
        activation,
        connector,
        runId: this.deps.ids('run'),
        recordFileRun: (runId) => this.activations.recordFileRun(id, runId),
      });
      return { ...report, activation };
    } catch (error) {
      if (error instanceof DomainError) throw error;
      const failure = asConnectorFailure(error);
      throw new DomainError(ErrorCode.Conflict, `The destination could not be read back (${failure.code}): ${failure.message}`, { details: { code: failure.code, retryable: failure.retryable } });
    }
  }

  private connector(destination: DestinationRecord, credentials: JsonObject | null): Connector {
    try {
      return createConnector({ type: destination.type, config: destination.config, credentials }, this.deps.connectorDeps);
    } catch (error) {
      const failure = asConnectorFailure(error);
      throw badInput(`The destination cannot be used as configured (${failure.code}): ${failure.message}`, { field: 'destinationId', code: failure.code });
    }
  }
}
