/**
 * How far the membership event log of a sandbox is sealed: the highest position
 * through which every change is committed (or will never be), so a reader that
 * stores "delivered through P" never skips a change committed later below P.
 *
 * The log's own appends keep it gap-free and move its counter only after the
 * events are stored (membershipEvents.repository.ts), so the log is sealed
 *   - through the counter's value, when every position up to it is in the log
 *     (one count on the position index): always, with that log;
 *   - otherwise through the counter's value as read `windowMs` ago: a guard for a
 *     log written some other way (positions taken before the insert), where what
 *     is still missing after that time is a hole.
 */
import type { Db } from 'mongodb';
import { countChangesBetween, lastChangePosition } from '../../segment/segment.view.js';

export const DEFAULT_SEAL_WINDOW_MS = 3_000;

interface Sample {
  at: number;
  head: number;
}

export class LogSeals {
  /** Counter readings per sandbox database, oldest first. */
  private readonly samples = new Map<string, Sample[]>();

  constructor(
    private readonly windowMs = DEFAULT_SEAL_WINDOW_MS,
    private readonly wall: () => number = Date.now,
  ) {}

  /** The position through which the log is sealed, at least `after`. */
  async sealedThrough(db: Db, after: number): Promise<number> {
    const head = await lastChangePosition(db);
    const at = this.wall();
    const old = this.remember(db.databaseName, { at, head });
    if (head <= after) return after;
    if ((await countChangesBetween(db, after, head)) === head - after) return head;
    return Math.max(after, old);
  }

  /** Keeps the newest reading at least a window old and every newer one; answers that old reading's head. */
  private remember(name: string, sample: Sample): number {
    const list = this.samples.get(name) ?? [];
    list.push(sample);
    const cutoff = sample.at - this.windowMs;
    let oldIndex = -1;
    for (let index = 0; index < list.length && list[index]!.at <= cutoff; index++) oldIndex = index;
    const kept = oldIndex > 0 ? list.slice(oldIndex) : list;
    // A sandbox read many times a second keeps a bounded history: one reading per 1/20 window is enough.
    const thinned = kept.length > 64 ? kept.filter((entry, index) => index === 0 || index === kept.length - 1 || index % 2 === 0) : kept;
    this.samples.set(name, thinned);
    return oldIndex >= 0 ? thinned[0]!.head : 0;
  }
}
