import type { Matcher } from '../query/match.js';
import type { Doc } from '../query/values.js';
import type { Collection } from './collection.js';
import { takeBatch, type BatchOptions, type BatchResult, type ServerCursor } from './cursors.js';

/** A tailable cursor on a capped collection: keeps returning documents inserted after the last one seen. */
export class TailableCursor implements ServerCursor {
  private lastSeq = 0;
  private pending: Doc[] = [];

  constructor(
    readonly ns: string,
    private readonly coll: Collection,
    private readonly matcher: Matcher,
    private readonly awaitData: boolean,
    private readonly isLive: () => boolean,
  ) {}

  private collect(): void {
    for (const rec of this.coll.insertedAfter(this.lastSeq)) {
      this.lastSeq = rec.seq;
      if (this.matcher.test(rec.doc, rec.wrapped)) this.pending.push(rec.doc);
    }
  }

  async nextBatch(batchSize: number, options: BatchOptions): Promise<BatchResult> {
    this.collect();
    if (this.pending.length === 0 && this.awaitData && !options.first && this.isLive()) {
      await this.coll.waitForInsert(options.maxTimeMS ?? 1000, options.signal);
      this.collect();
    }
    const docs = takeBatch(this.pending, 0, batchSize);
    this.pending.splice(0, docs.length);
    return { docs, exhausted: !this.isLive() };
  }
}
