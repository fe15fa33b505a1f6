/**
 * Changes a destination did not take, per activation and member, in one sandbox:
 * `activationRetries` (retryable failures waiting for their next attempt) and
 * `activationDeadLetters` (failures past the attempt limit, or permanent ones),
 * both keyed `<activationId>|<memberId>`. A member has at most one of either,
 * holding its latest change: a newer change replaces an older failed one, and a
 * delivered change clears it. So a retry never undoes a later change, and
 * nothing leaves these collections except by being delivered or superseded.
 */
import type { AnyBulkWriteOperation, Collection, Db } from 'mongodb';
import { oncePerKey } from '../../../lib/subgraph/once.js';
import type { MemberType } from '../connectors/index.js';

export type ChangeOperation = 'add' | 'remove';

export interface FailedChange {
  activationId: string;
  memberId: string;
  memberType: MemberType;
  operation: ChangeOperation;
  /** Delivery attempts made so far. */
  attempts: number;
  code: string;
  message: string;
  retryable: boolean;
  firstFailedAt: Date;
  lastFailedAt: Date;
}

export interface PendingRetry extends FailedChange {
  nextAttemptAt: Date;
}

type RetryDocument = PendingRetry & { _id: string };
type DeadLetterDocument = FailedChange & { _id: string };

const ensureIndexes = oncePerKey();
const keyOf = (activationId: string, memberId: string) => `${activationId}|${memberId}`;
const strip = <T extends { _id: string }>({ _id: _ignored, ...rest }: T): Omit<T, '_id'> => rest;

export class FailedChangesRepository {
  private readonly retries: Collection<RetryDocument>;
  private readonly deadLetters: Collection<DeadLetterDocument>;

  constructor(private readonly db: Db) {
    this.retries = db.collection<RetryDocument>('activationRetries');
    this.deadLetters = db.collection<DeadLetterDocument>('activationDeadLetters');
  }

  ensureIndexes(): Promise<void> {
    return ensureIndexes(this.db.databaseName, () =>
      Promise.all([
        this.retries.createIndex({ activationId: 1, nextAttemptAt: 1 }, { name: 'activationId_nextAttemptAt' }),
        this.deadLetters.createIndex({ activationId: 1, _id: 1 }, { name: 'activationId_id' }),
      ]),
    );
  }

  /** The pending retries and dead letters of these members (two `$in` queries), by member id. */
  async findForMembers(activationId: string, memberIds: readonly string[]): Promise<Map<string, FailedChange>> {
    const ids = memberIds.map((memberId) => keyOf(activationId, memberId));
    const [retries, letters] = await Promise.all([
      this.retries.find({ _id: { $in: ids } }).toArray(),
      this.deadLetters.find({ _id: { $in: ids } }).toArray(),
    ]);
    const found = new Map<string, FailedChange>();
    for (const doc of [...letters, ...retries]) found.set(doc.memberId, strip(doc));
    return found;
  }

  /** Retries due at `now`, earliest first. */
  async due(activationId: string, now: Date, limit: number): Promise<PendingRetry[]> {
    const docs = await this.retries.find({ activationId, nextAttemptAt: { $lte: now } }).sort({ nextAttemptAt: 1, _id: 1 }).limit(limit).toArray();
    return docs.map(strip);
  }

  /** Retries of these members, in no particular order. */
  async retriesOf(activationId: string, memberIds: readonly string[]): Promise<PendingRetry[]> {
    const docs = await this.retries.find({ _id: { $in: memberIds.map((memberId) => keyOf(activationId, memberId)) } }).toArray();
    return docs.map(strip);
  }

  /** The earliest next attempt of the activation's retries; null when none waits. */
  async nextAttemptAt(activationId: string): Promise<Date | null> {
    const [doc] = await this.retries.find({ activationId }, { projection: { nextAttemptAt: 1 } }).sort({ nextAttemptAt: 1 }).limit(1).toArray();
    return doc?.nextAttemptAt ?? null;
  }

  /**
   * Applies a batch's outcome in two bulk writes: retries to wait, letters to keep, and members
   * whose change went through (their older failures are cleared).
   */
  async record(activationId: string, outcome: { retry: PendingRetry[]; dead: FailedChange[]; cleared: string[] }): Promise<void> {
    const retryOps: AnyBulkWriteOperation<RetryDocument>[] = [];
    const letterOps: AnyBulkWriteOperation<DeadLetterDocument>[] = [];
    for (const change of outcome.retry) {
      const _id = keyOf(activationId, change.memberId);
      retryOps.push({ replaceOne: { filter: { _id }, replacement: change, upsert: true } });
      letterOps.push({ deleteOne: { filter: { _id } } });
    }
    for (const change of outcome.dead) {
      const _id = keyOf(activationId, change.memberId);
      letterOps.push({ replaceOne: { filter: { _id }, replacement: change, upsert: true } });
      retryOps.push({ deleteOne: { filter: { _id } } });
    }
    if (outcome.cleared.length > 0) {
      const ids = outcome.cleared.map((memberId) => keyOf(activationId, memberId));
      retryOps.push({ deleteMany: { filter: { _id: { $in: ids } } } });
      letterOps.push({ deleteMany: { filter: { _id: { $in: ids } } } });
    }
    if (retryOps.length > 0) await this.retries.bulkWrite(retryOps, { ordered: true });
    if (letterOps.length > 0) await this.deadLetters.bulkWrite(letterOps, { ordered: true });
  }

  /** A page of dead letters in member order; `after` is the memberId of the previous page's last. */
  async deadLetterPage(activationId: string, page: { after?: string; limit: number }): Promise<FailedChange[]> {
    const range = page.after ? { $gt: keyOf(activationId, page.after), $lt: `${activationId}}` } : { $gte: keyOf(activationId, ''), $lt: `${activationId}}` };
    const docs = await this.deadLetters.find({ _id: range }).sort({ _id: 1 }).limit(page.limit).toArray();
    return docs.map(strip);
  }

  countDeadLetters(activationId: string): Promise<number> {
    return this.deadLetters.countDocuments({ activationId });
  }

  countRetries(activationId: string): Promise<number> {
    return this.retries.countDocuments({ activationId });
  }

  /**
   * Moves up to `limit` dead letters back to the retry queue, due at `now`, with a fresh
   * attempt count; each letter is deleted only after its retry is written. Returns how many.
   */
  async redrive(activationId: string, now: Date, limit: number): Promise<number> {
    const letters = await this.deadLetterPage(activationId, { limit });
    if (letters.length === 0) return 0;
    await this.retries.bulkWrite(
      letters.map((letter) => {
        const _id = keyOf(activationId, letter.memberId);
        return { replaceOne: { filter: { _id }, replacement: { ...letter, attempts: 0, nextAttemptAt: now }, upsert: true } };
      }),
      { ordered: false },
    );
    await this.deadLetters.deleteMany({ _id: { $in: letters.map((letter) => keyOf(activationId, letter.memberId)) } });
    return letters.length;
  }
}
