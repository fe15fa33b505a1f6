/**
 * The `apiBudgets` collection (platform database: a Marketo instance or LinkedIn
 * member is shared by every sandbox, destination and source that uses it): API call slots that
 * all worker processes claim atomically, one findOneAndUpdate each.
 *
 * Each key has `callsPerWindow` rate slots and `maxConcurrent` concurrency
 * slots. A slot is free when its `until` has passed the threshold the claim
 * names; a claim sets `until` and `holder` in one atomic update, so no two
 * callers hold one slot. Rate slots: claimed while the call runs (until = the
 * lease's end), then set to the call's end; free again `windowMs` after it, so
 * no window of that length ever holds more calls than there are slots. A killed
 * process's slots free themselves when their lease ends.
 */
import { MongoBulkWriteError, type Collection, type Db, type WriteError } from 'mongodb';

export type SlotKind = 'rate' | 'concurrency';

interface BudgetSlotDocument {
  _id: string;
  key: string;
  kind: SlotKind;
  slot: number;
  until: Date;
  holder: string | null;
}

export interface ClaimedSlot {
  kind: SlotKind;
  slot: number;
  holder: string;
}

const EPOCH = new Date(0);

export class ApiBudgetRepository {
  private readonly slots: Collection<BudgetSlotDocument>;
  /** Slot sets known to exist, so each process creates them at most once. */
  private readonly ensured = new Set<string>();
  private indexed: Promise<unknown> | undefined;

  constructor(db: Db) {
    this.slots = db.collection<BudgetSlotDocument>('apiBudgets');
  }

  /**
   * Claims a slot free since `freeBefore` (until <= freeBefore), holding it until
   * `holdUntil`; null when every slot is taken.
   */
  async claim(key: string, kind: SlotKind, count: number, holder: string, freeBefore: Date, holdUntil: Date): Promise<ClaimedSlot | null> {
    await this.ensureSlots(key, kind, count);
    const doc = await this.slots.findOneAndUpdate(
      { key, kind, slot: { $lt: count }, until: { $lte: freeBefore } },
      { $set: { until: holdUntil, holder } },
      { sort: { until: 1 }, returnDocument: 'after', projection: { slot: 1 } },
    );
    return doc ? { kind, slot: doc.slot, holder } : null;
  }

  /** Sets the slot's `until` (the call's end, or the epoch to free it now), if this holder still holds it. */
  async release(key: string, claimed: ClaimedSlot, until: Date = EPOCH): Promise<void> {
    await this.slots.updateOne({ _id: slotId(key, claimed.kind, claimed.slot), holder: claimed.holder }, { $set: { until, holder: null } });
  }

  /** The earliest `until` among the key's slots of one kind, to know how long to wait. */
  async earliest(key: string, kind: SlotKind, count: number): Promise<Date | null> {
    const [doc] = await this.slots.find({ key, kind, slot: { $lt: count } }, { projection: { until: 1 } }).sort({ until: 1 }).limit(1).toArray();
    return doc?.until ?? null;
  }

  private async ensureSlots(key: string, kind: SlotKind, count: number): Promise<void> {
    const setKey = `${key}|${kind}|${count}`;
    if (this.ensured.has(setKey)) return;
    this.indexed ??= this.slots.createIndex({ key: 1, kind: 1, until: 1 });
    await this.indexed;
    // Upserts that only insert: racing processes create each slot once and never reset a claimed one.
    // Two processes racing on one slot may see a duplicate key error, which means it exists: the goal.
    const upserts = Array.from({ length: count }, (_, slot) => ({
      updateOne: {
        filter: { _id: slotId(key, kind, slot) },
        update: { $setOnInsert: { key, kind, slot, until: EPOCH, holder: null } },
        upsert: true,
      },
    }));
    try {
      await this.slots.bulkWrite(upserts, { ordered: false });
    } catch (error) {
      const errors = error instanceof MongoBulkWriteError ? writeErrorsOf(error) : [];
      if (errors.length === 0 || !errors.every((e) => e.code === 11000)) throw error;
    }
    this.ensured.add(setKey);
  }
}

function writeErrorsOf(error: MongoBulkWriteError): WriteError[] {
  const errors: WriteError | WriteError[] = error.writeErrors as WriteError | WriteError[];
  return Array.isArray(errors) ? errors : [errors];
}

function slotId(key: string, kind: SlotKind, slot: number): string {
  return `${key}|${kind}|${slot}`;
}
