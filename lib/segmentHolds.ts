/**
 * Holds on segments: something outside the segment subgraph that relies on a
 * segment existing (an activation delivering it to a destination) records a
 * hold, and the segment cannot be deleted while any hold exists.
 *
 * Why in lib: the destination subgraph reads the segment subgraph (through its
 * view), so the segment subgraph may not import the destination subgraph back.
 * Both meet here instead. This module owns the `segmentHolds` collection of each
 * sandbox database: `{ _id: "<segmentId>|<holder>", segmentId, holder, since }`.
 * Adding and removing are idempotent.
 */
import type { Collection, Db } from 'mongodb';
import { oncePerKey } from './subgraph/once.js';

export const SEGMENT_HOLDS_COLLECTION = 'segmentHolds';

export interface SegmentHold {
  segmentId: string;
  /** Who holds it, e.g. `activation:act_01j...`. */
  holder: string;
  since: Date;
}

interface HoldDocument extends SegmentHold {
  _id: string;
}

/** Holders named in a refusal at most; the count says how many there are in all. */
const MAX_HOLDERS_LISTED = 20;
const ensureIndexes = oncePerKey();

export class SegmentHolds {
  private readonly holds: Collection<HoldDocument>;

  constructor(private readonly db: Db) {
    this.holds = db.collection<HoldDocument>(SEGMENT_HOLDS_COLLECTION);
  }

  private ensureIndexes(): Promise<void> {
    return ensureIndexes(this.db.databaseName, () => this.holds.createIndex({ segmentId: 1, holder: 1 }, { name: 'segmentId_holder' }));
  }

  /** Records the hold; a second call with the same holder keeps the first `since`. */
  async add(segmentId: string, holder: string, since: Date): Promise<void> {
    await this.ensureIndexes();
    await this.holds.updateOne({ _id: holdId(segmentId, holder) }, { $setOnInsert: { segmentId, holder, since } }, { upsert: true });
  }

  async remove(segmentId: string, holder: string): Promise<void> {
    await this.holds.deleteOne({ _id: holdId(segmentId, holder) });
  }

  /** The holders of a segment, oldest first (at most MAX_HOLDERS_LISTED), and how many there are. */
  async holdersOf(segmentId: string): Promise<{ holders: string[]; count: number }> {
    await this.ensureIndexes();
    const docs = await this.holds.find({ segmentId }).sort({ since: 1, holder: 1 }).limit(MAX_HOLDERS_LISTED).toArray();
    const count = docs.length < MAX_HOLDERS_LISTED ? docs.length : await this.holds.countDocuments({ segmentId });
    return { holders: docs.map((doc) => doc.holder), count };
  }
}

function holdId(segmentId: string, holder: string): string {
  return `${segmentId}|${holder}`;
}
