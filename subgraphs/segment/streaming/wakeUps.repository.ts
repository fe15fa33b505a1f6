/**
 * `streamingWakeUps` of one sandbox: per (segment, member) whose result depends on a time
 * window, the next instant the result can change with the member's data unchanged. The
 * evaluator re-evaluates members when their instant comes; `_id` is `<segmentId>:<memberId>`
 * (segment ids hold no ':'), so a segment's wake-ups are one `_id` range.
 */
import type { AnyBulkWriteOperation, Collection, Db } from 'mongodb';
import { oncePerKey } from '../../../lib/subgraph/once.js';
import type { TargetEntity } from '../language/index.js';
import { STREAMING_WAKE_UPS_COLLECTION } from './layout.js';

export interface WakeUp {
  segmentId: string;
  memberId: string;
  target: TargetEntity;
  at: Date;
}

interface WakeUpDocument extends WakeUp {
  _id: string;
}

/** The wanted wake-up of one evaluated (segment, member): `at` null means none. */
export interface WakeUpWrite {
  segmentId: string;
  memberId: string;
  target: TargetEntity;
  at: Date | null;
}

/** Stored wake-up times (epoch ms) by member, then segment. */
export type StoredWakeUps = Map<string, Map<string, number>>;

const ensureIndexes = oncePerKey();
const wakeUpId = (segmentId: string, memberId: string) => `${segmentId}:${memberId}`;
const toWakeUp = ({ _id: _key, ...rest }: WakeUpDocument): WakeUp => rest;

export class WakeUpsRepository {
  private readonly wakeUps: Collection<WakeUpDocument>;

  constructor(private readonly db: Db) {
    this.wakeUps = db.collection<WakeUpDocument>(STREAMING_WAKE_UPS_COLLECTION);
  }

  ensureIndexes(): Promise<void> {
    return ensureIndexes(this.db.databaseName, () =>
      Promise.all([
        this.wakeUps.createIndex({ at: 1 }, { name: 'at' }),
        this.wakeUps.createIndex({ memberId: 1 }, { name: 'memberId' }),
      ]),
    );
  }

  /** The earliest stored wake-up time; null when there is none. */
  async earliest(): Promise<Date | null> {
    const doc = await this.wakeUps.find({}, { projection: { at: 1 } }).sort({ at: 1 }).limit(1).next();
    return doc?.at ?? null;
  }

  /** Wake-ups due at `now`, earliest first, at most `limit`. */
  async due(now: Date, limit: number): Promise<WakeUp[]> {
    const docs = await this.wakeUps.find({ at: { $lte: now } }).sort({ at: 1 }).limit(limit).toArray();
    return docs.map(toWakeUp);
  }

  /** The stored wake-ups of these members (every one of them, with none or some): one query. */
  async ofMembers(memberIds: readonly string[]): Promise<StoredWakeUps> {
    const stored: StoredWakeUps = new Map(memberIds.map((id) => [id, new Map()]));
    if (memberIds.length === 0) return stored;
    // Only segment, member and time: a batch reads a wake-up per time-dependent segment of each member.
    const docs = await this.wakeUps
      .find<Pick<WakeUp, 'segmentId' | 'memberId' | 'at'>>({ memberId: { $in: [...stored.keys()] } }, { projection: { _id: 0, segmentId: 1, memberId: 1, at: 1 } })
      .toArray();
    for (const doc of docs) stored.get(doc.memberId)?.set(doc.segmentId, doc.at.getTime());
    return stored;
  }

  /** Writes the wanted wake-ups of evaluated pairs, only where they differ from `stored`; answers the earliest time written (null for none). */
  async apply(wanted: readonly WakeUpWrite[], stored: StoredWakeUps): Promise<Date | null> {
    const operations: AnyBulkWriteOperation<WakeUpDocument>[] = [];
    let earliest: Date | null = null;
    for (const write of wanted) {
      const now = stored.get(write.memberId)?.get(write.segmentId);
      if (write.at === null) {
        if (now !== undefined) operations.push({ deleteOne: { filter: { _id: wakeUpId(write.segmentId, write.memberId) } } });
      } else if (now !== write.at.getTime()) {
        const { segmentId, memberId, target, at } = write;
        const _id = wakeUpId(segmentId, memberId);
        operations.push({ replaceOne: { filter: { _id }, replacement: { segmentId, memberId, target, at }, upsert: true } });
        if (earliest === null || at < earliest) earliest = at;
      }
    }
    if (operations.length > 0) await this.wakeUps.bulkWrite(operations, { ordered: false });
    return earliest;
  }

  /** Removes wake-ups by (segment, member). */
  async remove(pairs: ReadonlyArray<Pick<WakeUp, 'segmentId' | 'memberId'>>): Promise<void> {
    if (pairs.length === 0) return;
    await this.wakeUps.deleteMany({ _id: { $in: pairs.map((pair) => wakeUpId(pair.segmentId, pair.memberId)) } });
  }

  /** Removes every wake-up of a deleted segment. */
  async removeSegment(segmentId: string): Promise<void> {
    await this.wakeUps.deleteMany({ _id: { $gte: `${segmentId}:`, $lt: `${segmentId};` } });
  }
}
