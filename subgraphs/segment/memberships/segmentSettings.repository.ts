/**
 * `segmentSettings` of one sandbox: the nightly evaluation schedule with the last
 * nightly run it started, and the evaluation lease, which keeps two runs of one
 * sandbox (a nightly one and an on-demand one) from changing memberships at once.
 */
import type { Collection, Db } from 'mongodb';
import { SEGMENT_SETTINGS_COLLECTION } from '../memberships.layout.js';

export interface EvaluationScheduleRecord {
  /** A five-field cron expression, read in UTC. */
  cron: string;
  /** The latest due time a nightly run was started for (null before the first). */
  lastDueAt: Date | null;
  updatedAt: Date;
}

interface ScheduleDocument extends EvaluationScheduleRecord {
  _id: 'schedule';
}
interface LeaseDocument {
  _id: 'lease';
  runId: string;
  until: Date;
}

const isDuplicateKey = (error: unknown) => typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000;

export class SegmentSettingsRepository {
  /** One collection, two kinds of document, each with its own `_id`. */
  private readonly settings: Collection<ScheduleDocument>;
  private readonly leases: Collection<LeaseDocument>;

  constructor(db: Db) {
    this.settings = db.collection<ScheduleDocument>(SEGMENT_SETTINGS_COLLECTION);
    this.leases = db.collection<LeaseDocument>(SEGMENT_SETTINGS_COLLECTION);
  }

  async getSchedule(): Promise<EvaluationScheduleRecord | null> {
    const doc = await this.settings.findOne({ _id: 'schedule' });
    return doc ? { cron: doc.cron, lastDueAt: doc.lastDueAt, updatedAt: doc.updatedAt } : null;
  }

  /** Sets the cron and the due time counted as started, so a new cron's past due times start nothing. */
  async setCron(cron: string, at: Date, lastDueAt: Date): Promise<void> {
    await this.settings.updateOne({ _id: 'schedule' }, { $set: { cron, updatedAt: at, lastDueAt } }, { upsert: true });
  }

  /** Creates the schedule with these values when the sandbox has none; returns the stored one. */
  async ensureSchedule(defaults: EvaluationScheduleRecord): Promise<EvaluationScheduleRecord> {
    await this.settings
      .updateOne({ _id: 'schedule' }, { $setOnInsert: { ...defaults } }, { upsert: true })
      .catch((error: unknown) => {
        if (!isDuplicateKey(error)) throw error;
      });
    return (await this.getSchedule()) ?? defaults;
  }

  /** Records that the nightly run for `dueAt` was started; false when it was recorded already. */
  async markDue(dueAt: Date): Promise<boolean> {
    const result = await this.settings.updateOne(
      { _id: 'schedule', $or: [{ lastDueAt: null }, { lastDueAt: { $lt: dueAt } }] },
      { $set: { lastDueAt: dueAt } },
    );
    return result.modifiedCount === 1;
  }

  /**
   * Takes (or extends) the sandbox's evaluation lease for `runId` until `until`; false while
   * another run holds an unexpired lease.
   */
  async claimLease(runId: string, now: Date, until: Date): Promise<boolean> {
    try {
      await this.leases.updateOne(
        { _id: 'lease', $or: [{ runId }, { until: { $lt: now } }] },
        { $set: { runId, until } },
        { upsert: true },
      );
      return true;
    } catch (error) {
      // The upsert tried to insert a second lease document: another run holds it.
      if (isDuplicateKey(error)) return false;
      throw error;
    }
  }

  async releaseLease(runId: string): Promise<void> {
    await this.leases.deleteOne({ _id: 'lease', runId });
  }
}
