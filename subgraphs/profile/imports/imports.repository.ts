/**
 * The import collections of one sandbox: `imports` (one document per import,
 * with its status, counters and checkpoint), `importChunks` (the uploaded file,
 * in chunks of at most 1 MiB, kept until the import ends, is deleted or its upload is abandoned) and
 * `importErrors` (rejected rows, one per line). Used by the imports service in
 * the profile subgraph and by the import job, which runs in the worker.
 */
import type { Collection, Db } from 'mongodb';
import type { Principal } from '../../../lib/auth/roles.js';
import { oncePerKey } from '../../../lib/subgraph/once.js';

export const IMPORT_STATUSES = ['UPLOADING', 'QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED'] as const;
export type ImportStatus = (typeof IMPORT_STATUSES)[number];

export interface ImportRecord {
  id: string;
  source: string;
  instance: string;
  entity: string;
  crmInstance: string | null;
  /** The mapping file: column -> field. */
  mapping: Record<string, string> | null;
  status: ImportStatus;
  /** Rows in the file (header excluded), known once the job has counted them; 0 before. */
  rowsTotal: number;
  /** Rows whose main record was written (partial ones included). */
  rowsImported: number;
  /** Rows nothing of which was written (invalid, or their main record rejected). */
  rowsRejected: number;
  /** Rows whose main record was written but a related record (an account link, a contact role) was rejected; absent on older imports. */
  rowsPartial?: number;
  chunkCount: number | null;
  /** The last line whose row is done (imported or reported): where a restarted job resumes. */
  checkpointLine: number;
  createdAt: Date;
  updatedAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  failure: string | null;
  /** Who started the import: its job writes as them (imports from before this field: an editor of the sandbox). */
  principal?: Principal;
  /** Set while `completeUpload` checks the chunks: no chunk write may land from then on. */
  uploadSealedAt?: Date | null;
  /** Bytes of the chunks stored (reserved before each chunk is written); absent on imports from before uploads were counted. */
  uploadedBytes?: number;
  /** When an upload that gets no further chunk is abandoned (the sweep fails it and removes its chunks). */
  uploadExpiresAt?: Date | null;
}

/** Imports whose chunks are stored and count against the sandbox's upload quota. */
const HOLDING_CHUNKS: readonly ImportStatus[] = ['UPLOADING', 'QUEUED', 'RUNNING'];

export interface ImportRowError {
  line: number;
  code: string;
  reason: string;
  /** The row's main record was written; only a related record was rejected. */
  partial?: boolean;
}

type ImportDocument = Omit<ImportRecord, 'id'> & { _id: string };
interface ChunkDocument {
  _id: string;
  importId: string;
  index: number;
  content: string;
  bytes: number;
  /**
   * false until `completeUpload` seals the import's chunks; a sealed chunk is part of the file and
   * is never replaced. Chunks written before this field existed count as sealed.
   */
  sealed?: boolean;
  /** Which `putChunk` call wrote this version, so it can take back only its own write. */
  writeId?: string;
}

/**
 * What `putChunk` did: the chunk is part of the upload (replacing a chunk of `replacedBytes`
 * sent before under its index), or the upload was completed first and nothing landed.
 */
export type PutChunkOutcome = { stored: true; replacedBytes: number } | { stored: false };

const isDuplicateKey = (error: unknown) => typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000;
interface ErrorDocument extends ImportRowError {
  _id: string;
  importId: string;
}

const ensureIndexes = oncePerKey();
const toRecord = ({ _id, ...rest }: ImportDocument): ImportRecord => ({ id: _id, ...rest });
/** Deterministic ids: a chunk re-sent or a row reported again replaces its document. */
const chunkId = (importId: string, index: number) => `${importId}:${index}`;
const errorId = (importId: string, line: number) => `${importId}:${line}`;

export class ImportsRepository {
  private readonly imports: Collection<ImportDocument>;
  private readonly chunks: Collection<ChunkDocument>;
  private readonly errors: Collection<ErrorDocument>;

  constructor(private readonly db: Db) {
    this.imports = db.collection<ImportDocument>('imports');
    this.chunks = db.collection<ChunkDocument>('importChunks');
    this.errors = db.collection<ErrorDocument>('importErrors');
  }

  ensureIndexes(): Promise<void> {
    return ensureIndexes(this.db.databaseName, () =>
      Promise.all([
        this.imports.createIndex({ createdAt: -1 }, { name: 'createdAt' }),
        this.imports.createIndex({ status: 1, updatedAt: 1 }, { name: 'status_updatedAt' }),
        this.chunks.createIndex({ importId: 1, index: 1 }, { name: 'importId_index' }),
        this.errors.createIndex({ importId: 1, line: 1 }, { name: 'importId_line' }),
      ]),
    );
  }

  async insert(record: ImportRecord): Promise<ImportRecord> {
    const { id, ...rest } = record;
    await this.imports.insertOne({ _id: id, ...rest });
    return record;
  }

  async findById(id: string): Promise<ImportRecord | null> {
    const doc = await this.imports.findOne({ _id: id });
    return doc ? toRecord(doc) : null;
  }

  /** Imports QUEUED since before `before`, oldest first, at most `limit`. */
  async listQueuedSince(before: Date, limit: number): Promise<ImportRecord[]> {
    const docs = await this.imports.find({ status: 'QUEUED', updatedAt: { $lt: before } }).sort({ updatedAt: 1 }).limit(limit).toArray();
    return docs.map(toRecord);
  }

  /** Newest first. */
  async list(limit: number): Promise<ImportRecord[]> {
    const docs = await this.imports.find({}).sort({ createdAt: -1, _id: -1 }).limit(limit).toArray();
    return docs.map(toRecord);
  }

  /**
   * Stores chunk `index` unless the import's upload is completed or being completed, without a
   * transaction. The write never replaces a sealed chunk; after writing, the import is read again,
   * and a write that raced `completeUpload` is taken back (the previous version restored) unless
   * `sealChunks` got to it first, in which case the chunk is part of the file. Either way, what
   * the caller is told matches what the import job will read.
   */
  async putChunk(importId: string, index: number, content: string, bytes: number, writeId: string): Promise<PutChunkOutcome> {
    const _id = chunkId(importId, index);
    let previous: ChunkDocument | null;
    try {
      previous = await this.chunks.findOneAndReplace(
        { _id, sealed: { $ne: true } },
        { importId, index, content, bytes, sealed: false, writeId },
        { upsert: true, returnDocument: 'before' },
      );
    } catch (error) {
      // The chunk exists and is sealed: the upsert's insert collided with it.
      if (isDuplicateKey(error)) return { stored: false };
      throw error;
    }
    const stored: PutChunkOutcome = { stored: true, replacedBytes: previous?.bytes ?? 0 };
    const current = await this.imports.findOne({ _id: importId }, { projection: { status: 1, uploadSealedAt: 1 } });
    if (current?.status === 'UPLOADING' && !current.uploadSealedAt) return stored;
    const mine = { _id, writeId, sealed: { $ne: true } };
    const undone = previous
      ? (await this.chunks.replaceOne(mine, previous)).matchedCount
      : (await this.chunks.deleteOne(mine)).deletedCount;
    return undone === 1 ? { stored: false } : stored;
  }

  /**
   * Counts `bytes` more against the import before its chunk is written, and pushes its expiry
   * back; false (nothing counted) when that would pass `maxBytes` or the import is not
   * uploading. One conditional update, so concurrent chunks of one import never pass the cap together.
   */
  async reserveUpload(importId: string, bytes: number, maxBytes: number, expiresAt: Date): Promise<boolean> {
    const result = await this.imports.updateOne(
      { _id: importId, status: 'UPLOADING', $or: [{ uploadedBytes: { $lte: maxBytes - bytes } }, { uploadedBytes: { $exists: false } }] },
      { $inc: { uploadedBytes: bytes }, $set: { uploadExpiresAt: expiresAt } },
    );
    return result.matchedCount === 1;
  }

  /** The bytes of chunk `index` as stored, 0 when there is none. */
  async chunkBytes(importId: string, index: number): Promise<number> {
    const doc = await this.chunks.findOne({ _id: chunkId(importId, index) }, { projection: { bytes: 1 } });
    return doc?.bytes ?? 0;
  }

  /** Takes back bytes counted by `reserveUpload` that no stored chunk holds (a chunk refused, or one replaced); negative counts more. */
  async releaseUpload(importId: string, bytes: number): Promise<void> {
    if (bytes === 0) return;
    await this.imports.updateOne({ _id: importId }, { $inc: { uploadedBytes: -bytes } });
  }

  /** Bytes of uploaded files the sandbox holds: its imports uploading, queued or running. */
  async storedUploadBytes(): Promise<number> {
    const [total] = await this.imports
      .aggregate<{ bytes: number }>([
        { $match: { status: { $in: [...HOLDING_CHUNKS] } } },
        { $group: { _id: null, bytes: { $sum: { $ifNull: ['$uploadedBytes', 0] } } } },
      ])
      .toArray();
    return total?.bytes ?? 0;
  }

  /** Uploads past their expiry (not being completed), oldest first, at most `limit`. */
  async listAbandonedUploads(now: Date, limit: number): Promise<ImportRecord[]> {
    const docs = await this.imports
      .find({ status: 'UPLOADING', uploadSealedAt: null, uploadExpiresAt: { $lt: now } })
      .sort({ uploadExpiresAt: 1 })
      .limit(limit)
      .toArray();
    return docs.map(toRecord);
  }

  /** Removes an import that is uploading (not being completed) or has ended, with its chunks and errors; false when it is in any other state. */
  async deleteImport(id: string): Promise<boolean> {
    const deleted = await this.imports.findOneAndDelete({
      _id: id,
      $or: [{ status: 'UPLOADING', uploadSealedAt: null }, { status: { $in: ['SUCCEEDED', 'FAILED'] } }],
    });
    if (!deleted) return false;
    await this.chunks.deleteMany({ importId: id });
    await this.errors.deleteMany({ importId: id });
    return true;
  }

  /** Marks the import's upload as being completed; null when it is no longer UPLOADING. */
  async sealUpload(id: string, now: Date): Promise<ImportRecord | null> {
    const doc = await this.imports.findOneAndUpdate({ _id: id, status: 'UPLOADING' }, { $set: { uploadSealedAt: now } }, { returnDocument: 'after' });
    return doc ? toRecord(doc) : null;
  }

  /** Makes every chunk written so far part of the file; run after `sealUpload`, before `chunkIndexes`. */
  async sealChunks(importId: string): Promise<void> {
    await this.chunks.updateMany({ importId, sealed: false }, { $set: { sealed: true } });
  }

  /** Reopens an upload whose completion was refused (chunks missing), so chunks can be sent again. */
  async unsealUpload(id: string): Promise<void> {
    await this.chunks.updateMany({ importId: id, sealed: true }, { $set: { sealed: false } });
    await this.imports.updateOne({ _id: id, status: 'UPLOADING' }, { $set: { uploadSealedAt: null } });
  }

  /** Indexes of the sealed chunks of an import, ascending. */
  async chunkIndexes(importId: string): Promise<number[]> {
    const docs = await this.chunks.find({ importId, sealed: { $ne: false } }, { projection: { index: 1 } }).sort({ index: 1 }).toArray();
    return docs.map((doc) => doc.index);
  }

  /** The file's content, one chunk at a time, in order: never the whole file in memory. */
  async *readChunks(importId: string): AsyncGenerator<string> {
    // Only sealed chunks: a write that lost the race with completeUpload may linger unsealed after a crash.
    const cursor = this.chunks.find({ importId, sealed: { $ne: false } }, { projection: { content: 1 } }).sort({ index: 1 }).batchSize(2);
    try {
      for await (const doc of cursor) yield doc.content;
    } finally {
      await cursor.close();
    }
  }

  async deleteChunks(importId: string): Promise<void> {
    await this.chunks.deleteMany({ importId });
  }

  /** Moves an import from `from` to `to`, setting `fields`; null when it was not in `from`. */
  async transition(id: string, from: readonly ImportStatus[], to: ImportStatus, fields: Partial<ImportRecord>, now: Date): Promise<ImportRecord | null> {
    const doc = await this.imports.findOneAndUpdate(
      { _id: id, status: { $in: [...from] } },
      { $set: { ...fields, status: to, updatedAt: now } },
      { returnDocument: 'after' },
    );
    return doc ? toRecord(doc) : null;
  }

  async setRowsTotal(id: string, rowsTotal: number, now: Date): Promise<void> {
    await this.imports.updateOne({ _id: id }, { $set: { rowsTotal, updatedAt: now } });
  }

  /** After a batch: the line reached and the counters up to it, in one write. */
  async checkpoint(id: string, progress: { checkpointLine: number; rowsImported: number; rowsRejected: number; rowsPartial: number }, now: Date): Promise<void> {
    await this.imports.updateOne({ _id: id, status: 'RUNNING' }, { $set: { ...progress, updatedAt: now } });
  }

  /** Upserted by line, so a batch reported again after a crash leaves one error per row. */
  async recordErrors(importId: string, errors: readonly ImportRowError[]): Promise<void> {
    if (errors.length === 0) return;
    await this.errors.bulkWrite(
      errors.map((error) => ({
        replaceOne: { filter: { _id: errorId(importId, error.line) }, replacement: { importId, ...error }, upsert: true },
      })),
      { ordered: false },
    );
  }

  /** Rejected rows by line, after line `afterLine`. */
  async listErrors(importId: string, limit: number, afterLine: number): Promise<ImportRowError[]> {
    const docs = await this.errors
      .find({ importId, line: { $gt: afterLine } }, { projection: { _id: 0, line: 1, code: 1, reason: 1, partial: 1 } })
      .sort({ line: 1 })
      .limit(limit)
      .toArray();
    return docs.map(({ line, code, reason, partial }) => ({ line, code, reason, partial: partial ?? false }));
  }
}
