import { calculateObjectSize, Long } from 'bson';
import type { Doc } from '../query/values.js';
import type { ResumeToken } from './changeLog.js';

/** A reply must stay under 16 MiB; leave room for the envelope. */
export const MAX_BATCH_BYTES = 16 * 1024 * 1024 - 64 * 1024;

export interface BatchOptions {
  maxTimeMS?: number;
  signal?: AbortSignal;
  /** First batch of a find/aggregate: no waiting for new data. */
  first?: boolean;
}

export interface BatchResult {
  docs: Doc[];
  exhausted: boolean;
  postBatchResumeToken?: ResumeToken;
}

/** A server-side cursor: a finished result list, a tailable capped-collection cursor or a change stream. */
export interface ServerCursor {
  readonly ns: string;
  nextBatch(batchSize: number, options: BatchOptions): Promise<BatchResult>;
  close?(): void;
}

/** Takes up to `batchSize` docs (0 = no count limit) without passing the reply size limit. */
export function takeBatch(docs: Doc[], start: number, batchSize: number): Doc[] {
  const out: Doc[] = [];
  let bytes = 0;
  for (let i = start; i < docs.length; i++) {
    if (batchSize > 0 && out.length >= batchSize) break;
    const size = calculateObjectSize(docs[i]);
    if (out.length > 0 && bytes + size > MAX_BATCH_BYTES) break;
    bytes += size;
    out.push(docs[i]);
  }
  return out;
}

/** A cursor over a result computed up front. */
export class ArrayCursor implements ServerCursor {
  private pos = 0;
  constructor(readonly ns: string, private readonly docs: Doc[]) {}

  async nextBatch(batchSize: number): Promise<BatchResult> {
    const batch = takeBatch(this.docs, this.pos, batchSize);
    this.pos += batch.length;
    return { docs: batch, exhausted: this.pos >= this.docs.length };
  }
}

interface Entry {
  cursor: ServerCursor;
  lastUsed: number;
  abort: AbortController;
}

/** Open cursors by id; idle ones are reaped after 10 minutes as MongoDB does. */
export class CursorRegistry {
  private readonly cursors = new Map<string, Entry>();
  private readonly idleMs = 10 * 60 * 1000;

  register(cursor: ServerCursor): Long {
    let id: Long;
    do {
      id = Long.fromNumber(Math.floor(Math.random() * 2 ** 52) + 1);
    } while (this.cursors.has(id.toString()));
    this.cursors.set(id.toString(), { cursor, lastUsed: Date.now(), abort: new AbortController() });
    return id;
  }

  get(id: Long): Entry | undefined {
    const e = this.cursors.get(id.toString());
    if (e) e.lastUsed = Date.now();
    return e;
  }

  kill(id: Long): boolean {
    const e = this.cursors.get(id.toString());
    if (!e) return false;
    this.cursors.delete(id.toString());
    e.abort.abort();
    e.cursor.close?.();
    return true;
  }

  /** Closes every cursor (server shutdown) so awaiting getMores return promptly. */
  killAll(): void {
    for (const key of [...this.cursors.keys()]) this.kill(Long.fromString(key));
  }

  sweep(): void {
    const limit = Date.now() - this.idleMs;
    for (const [key, e] of this.cursors) if (e.lastUsed < limit) this.kill(Long.fromString(key));
  }

  get size(): number {
    return this.cursors.size;
  }
}
