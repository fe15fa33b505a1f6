import { Timestamp } from 'bson';
import { DevDbError, ErrorCode } from '../errors.js';
import type { Doc } from '../query/values.js';

/** One change, as recorded when it happened (the resume token and lookups are added on delivery). */
export interface ChangeEntry {
  seq: number;
  /** Cluster time as seconds + increment; Timestamp objects are only built on delivery (they are costly). */
  t: number;
  i: number;
  wallMs: number;
  db: string;
  coll: string | undefined;
  /** operationType, ns, documentKey, fullDocument, updateDescription, ... */
  event: Doc;
}

export interface ResumeToken {
  _data: string;
}

const TOKEN_PREFIX = '82';
const INVALIDATE_SUFFIX = '01';

/**
 * The deployment-wide change log (devdb's oplog): bounded, ordered by `seq`, shared by every change
 * stream. Appends are synchronous, so a write and its event are one atomic step.
 */
export class ChangeLog {
  private entries: ChangeEntry[] = [];
  private lastSeqValue = 0;
  private lastT = 0;
  private lastI = 0;
  private waiters = new Set<() => void>();

  constructor(private readonly capacity: number, private readonly now: () => number) {}

  get lastSeq(): number {
    return this.lastSeqValue;
  }

  /** Seq of the oldest entry still held (lastSeq + 1 when empty). */
  get oldestSeq(): number {
    return this.entries.length > 0 ? this.entries[0].seq : this.lastSeqValue + 1;
  }

  /** Advances to a cluster time strictly greater than any handed out before. */
  private tick(nowMs: number): void {
    const t = Math.floor(nowMs / 1000);
    if (t > this.lastT) { this.lastT = t; this.lastI = 1; } else this.lastI++;
  }

  /** The latest cluster time (for `operationTime` in replies). */
  currentTime(): Timestamp {
    if (this.lastT === 0) this.tick(this.now());
    return new Timestamp({ t: this.lastT, i: this.lastI });
  }

  static clusterTime(e: ChangeEntry): Timestamp {
    return new Timestamp({ t: e.t, i: e.i });
  }

  append(db: string, coll: string | undefined, event: Doc): ChangeEntry {
    const nowMs = this.now();
    this.tick(nowMs);
    const entry: ChangeEntry = { seq: ++this.lastSeqValue, t: this.lastT, i: this.lastI, wallMs: nowMs, db, coll, event };
    this.entries.push(entry);
    if (this.entries.length > this.capacity + Math.max(16, this.capacity >> 4)) {
      this.entries.splice(0, this.entries.length - this.capacity);
    }
    if (this.waiters.size > 0) {
      const waiters = [...this.waiters];
      this.waiters.clear();
      for (const w of waiters) w();
    }
    return entry;
  }

  /** Entries with seq > afterSeq, at most `limit` of them. Throws ChangeStreamHistoryLost if some were already dropped. */
  after(afterSeq: number, limit = Infinity): ChangeEntry[] {
    if (afterSeq + 1 < this.oldestSeq && afterSeq < this.lastSeqValue) {
      throw historyLost();
    }
    const start = Math.max(0, afterSeq + 1 - this.oldestSeq);
    return this.entries.slice(start, start + limit);
  }

  /** Seq to resume after so the first event is the first one at or after `ts`. */
  seqAtTime(ts: Timestamp): number {
    const before = (e: ChangeEntry): boolean => e.t < ts.t || (e.t === ts.t && e.i < ts.i);
    const first = this.entries[0];
    const after = (e: ChangeEntry): boolean => e.t > ts.t || (e.t === ts.t && e.i > ts.i);
    // Entries before `first` were dropped; if `ts` precedes it, some of them might have been wanted.
    if (first && first.seq > 1 && after(first)) throw historyLost();
    for (const e of this.entries) if (!before(e)) return e.seq - 1;
    return this.lastSeqValue;
  }

  /** Resolves when a new entry is appended or after `ms`, whichever comes first. */
  waitForAppend(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /** The token of the event at `seq`; an invalidate event (which follows the event that caused it) has its own. */
  static token(seq: number, invalidate = false): ResumeToken {
    return { _data: TOKEN_PREFIX + seq.toString(16).toUpperCase().padStart(16, '0') + (invalidate ? INVALIDATE_SUFFIX : '') };
  }

  static parseToken(token: unknown): { seq: number; invalidate: boolean } {
    const data = (token as { _data?: unknown } | null)?._data;
    if (typeof data !== 'string' || !/^82[0-9A-F]{16}(01)?$/i.test(data)) {
      throw new DevDbError(ErrorCode.InvalidResumeToken, 'Invalid resume token: not a devdb resume token');
    }
    return { seq: parseInt(data.slice(2, 18), 16), invalidate: data.length > 18 };
  }

  /** The entry at `seq`, if the log still holds it. */
  at(seq: number): ChangeEntry | undefined {
    const e = this.entries[seq - this.oldestSeq];
    return e?.seq === seq ? e : undefined;
  }
}

function historyLost(): DevDbError {
  return new DevDbError(
    ErrorCode.ChangeStreamHistoryLost,
    'Resume of change stream was not possible, as the resume point may no longer be in the oplog.',
    { errorLabels: ['NonResumableChangeStreamError'] },
  );
}
