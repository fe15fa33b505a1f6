import { OrderedKeys, type Bound } from './orderedKeys.js';
import type { Rec } from './record.js';

/**
 * A collection's `_id` values in BSON order: what MongoDB's `_id` index gives range scans and sorts
 * on `_id`, such as keyset pages (`{ _id: { $gt: last } }` sorted by `_id`), which would otherwise
 * scan and sort the whole collection for every page. Built from the records on first use, then kept
 * current by the collection's inserts and removals (an `_id` never changes).
 */
export class IdOrder {
  private ordered: OrderedKeys | null = null;

  constructor(private readonly records: ReadonlyMap<string, Rec>) {}

  added(id: unknown, key: string): void {
    this.ordered?.insert({ value: id, key });
  }

  removed(id: unknown, key: string): void {
    this.ordered?.remove(id, key);
  }

  clear(): void {
    this.ordered = null;
  }

  /** Records whose `_id` lies between the bounds, in `_id` order (descending with `reverse`). */
  *range(lower: Bound | undefined, upper: Bound | undefined, reverse = false): Generator<Rec> {
    if (!this.ordered) {
      const entries = [...this.records].map(([key, rec]) => ({ value: rec.doc._id, key }));
      this.ordered = new OrderedKeys(entries);
    }
    for (const { key } of this.ordered.range(lower, upper, reverse)) {
      const rec = this.records.get(key);
      if (rec) yield rec;
    }
  }
}
