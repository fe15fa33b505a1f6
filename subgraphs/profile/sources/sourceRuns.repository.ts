/**
 * The `sourceRuns` collection of one sandbox: one document per sync of a source,
 * with its progress per entity, the rows it rejected (with reasons), and the
 * cursor it has committed. A page's counts, rejections and cursor move in one
 * update, so a run resumed after a crash ends with exact counts.
 */
import type { Collection, Db } from 'mongodb';
import type { SourceCursor, SyncMode } from './sources.repository.js';

export type SyncStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED';

export interface EntityProgress {
  entity: string;
  rowsRead: number;
  rowsWritten: number;
  rowsRejected: number;
  /** Records the source reports deleted (Marketo deleted leads, Salesforce deleted records). */
  rowsDeleted: number;
}

export interface RejectedRow {
  entity: string;
  /** The record's id in the source. */
  recordId: string;
  code: string;
  reason: string;
}

export interface SyncRunRecord {
  id: string;
  sourceId: string;
  mode: SyncMode;
  status: SyncStatus;
  startedAt: Date;
  finishedAt: Date | null;
  cursorBefore: SourceCursor | null;
  cursor: SourceCursor | null;
  entities: EntityProgress[];
  rowsRead: number;
  rowsWritten: number;
  rowsRejected: number;
  /** The first MAX_KEPT_REJECTIONS rejections; `rowsRejected` counts them all. */
  rejections: RejectedRow[];
  failure: { code: string; message: string } | null;
  updatedAt: Date;
}

export interface PageCommit {
  entity: string;
  read: number;
  written: number;
  rejected: RejectedRow[];
  deleted: number;
  cursor: SourceCursor;
}

export const MAX_KEPT_REJECTIONS = 200;

interface RunDocument extends Omit<SyncRunRecord, 'id' | 'entities'> {
  _id: string;
  entities: Record<string, Omit<EntityProgress, 'entity'>>;
}

function toRecord(doc: RunDocument): SyncRunRecord {
  const { _id, entities, ...rest } = doc;
  return { id: _id, ...rest, entities: Object.entries(entities ?? {}).map(([entity, progress]) => ({ entity, ...progress })) };
}

export class SourceRunsRepository {
  private readonly runs: Collection<RunDocument>;
  private indexed: Promise<unknown> | undefined;

  constructor(db: Db) {
    this.runs = db.collection<RunDocument>('sourceRuns');
  }

  ensureIndexes(): Promise<unknown> {
    this.indexed ??= this.runs.createIndex({ sourceId: 1, startedAt: -1 });
    return this.indexed;
  }

  async findById(id: string): Promise<SyncRunRecord | null> {
    const doc = await this.runs.findOne({ _id: id });
    return doc ? toRecord(doc) : null;
  }

  async findByIds(ids: readonly string[]): Promise<SyncRunRecord[]> {
    return (await this.runs.find({ _id: { $in: [...ids] } }).toArray()).map(toRecord);
  }

  /** The source's run a crashed worker left RUNNING, if any. */
  async findRunning(sourceId: string): Promise<SyncRunRecord | null> {
    const doc = await this.runs.findOne({ sourceId, status: 'RUNNING' }, { sort: { startedAt: -1 } });
    return doc ? toRecord(doc) : null;
  }

  async listForSource(sourceId: string, limit: number): Promise<SyncRunRecord[]> {
    await this.ensureIndexes();
    return (await this.runs.find({ sourceId }).sort({ startedAt: -1, _id: -1 }).limit(limit).toArray()).map(toRecord);
  }

  async start(run: { id: string; sourceId: string; mode: SyncMode; cursor: SourceCursor | null }, now: Date): Promise<SyncRunRecord> {
    await this.ensureIndexes();
    const doc: RunDocument = {
      _id: run.id,
      sourceId: run.sourceId,
      mode: run.mode,
      status: 'RUNNING',
      startedAt: now,
      finishedAt: null,
      cursorBefore: run.cursor,
      cursor: run.cursor,
      entities: {},
      rowsRead: 0,
      rowsWritten: 0,
      rowsRejected: 0,
      rejections: [],
      failure: null,
      updatedAt: now,
    };
    await this.runs.insertOne(doc);
    return toRecord(doc);
  }

  /** One page's outcome: counts, kept rejections and the cursor after it, in one update of a RUNNING run. */
  async commitPage(id: string, page: PageCommit, now: Date): Promise<boolean> {
    const prefix = `entities.${page.entity}`;
    const result = await this.runs.updateOne(
      { _id: id, status: 'RUNNING' },
      {
        $inc: {
          [`${prefix}.rowsRead`]: page.read,
          [`${prefix}.rowsWritten`]: page.written,
          [`${prefix}.rowsRejected`]: page.rejected.length,
          [`${prefix}.rowsDeleted`]: page.deleted,
          rowsRead: page.read,
          rowsWritten: page.written,
          rowsRejected: page.rejected.length,
        },
        $push: { rejections: { $each: page.rejected, $slice: MAX_KEPT_REJECTIONS } },
        $set: { cursor: page.cursor, updatedAt: now },
      },
    );
    return result.matchedCount === 1;
  }

  async finish(id: string, status: 'SUCCEEDED' | 'FAILED', failure: { code: string; message: string } | null, now: Date): Promise<SyncRunRecord | null> {
    const doc = await this.runs.findOneAndUpdate(
      { _id: id, status: 'RUNNING' },
      { $set: { status, failure, finishedAt: now, updatedAt: now } },
      { returnDocument: 'after' },
    );
    return doc ? toRecord(doc) : null;
  }
}
