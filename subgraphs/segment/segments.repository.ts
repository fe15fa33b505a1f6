/** The `segments` collection of one sandbox. */
import type { ChangeStreamDocument, Collection, Db, Document, Filter } from 'mongodb';
import { openChangeIterator, type ChangeIterator } from '../../lib/subgraph/changeStream.js';
import type { PageQuery } from '../../lib/subgraph/pagination.js';

export type TargetEntity = 'PERSON' | 'ACCOUNT';

export interface SegmentFields {
  name?: string;
  description?: string | null;
  expression?: string;
  targetEntity?: TargetEntity;
}

export interface SegmentRecord {
  id: string;
  name: string;
  description: string | null;
  expression: string;
  targetEntity: TargetEntity;
  createdAt: Date;
  updatedAt: Date;
}

interface SegmentDocument extends Omit<SegmentRecord, 'id'> {
  _id: string;
}

export type SegmentChangeKind = 'CREATED' | 'UPDATED' | 'DELETED';

export interface SegmentChange {
  kind: SegmentChangeKind;
  segmentId: string;
  segment: SegmentRecord | null;
}

function toRecord({ _id, ...rest }: SegmentDocument): SegmentRecord {
  return { id: _id, ...rest };
}

function toChange(change: ChangeStreamDocument<SegmentDocument>): SegmentChange | null {
  switch (change.operationType) {
    case 'insert':
      return { kind: 'CREATED', segmentId: change.documentKey._id, segment: toRecord(change.fullDocument) };
    case 'update':
    case 'replace':
      return {
        kind: 'UPDATED',
        segmentId: change.documentKey._id,
        segment: change.fullDocument ? toRecord(change.fullDocument) : null,
      };
    case 'delete':
      return { kind: 'DELETED', segmentId: change.documentKey._id, segment: null };
    default:
      return null;
  }
}

export class SegmentsRepository {
  private readonly segments: Collection<SegmentDocument>;

  constructor(db: Db) {
    this.segments = db.collection<SegmentDocument>('segments');
  }

  /** One `$in` query. */
  async findByIds(ids: readonly string[]): Promise<SegmentRecord[]> {
    const docs = await this.segments.find({ _id: { $in: [...ids] } }).toArray();
    return docs.map(toRecord);
  }

  async list(page: PageQuery, targetEntity?: TargetEntity): Promise<SegmentRecord[]> {
    const filter: Filter<SegmentDocument> = {};
    if (page.after) filter._id = { $gt: page.after };
    if (targetEntity) filter.targetEntity = targetEntity;
    const docs = await this.segments.find(filter).sort({ _id: 1 }).limit(page.limit).toArray();
    return docs.map(toRecord);
  }

  async insert(record: SegmentRecord): Promise<SegmentRecord> {
    const { id, ...rest } = record;
    await this.segments.insertOne({ _id: id, ...rest });
    return record;
  }

  async update(id: string, fields: SegmentFields, updatedAt: Date): Promise<SegmentRecord | null> {
    const doc = await this.segments.findOneAndUpdate(
      { _id: id },
      { $set: { ...fields, updatedAt } },
      { returnDocument: 'after' },
    );
    return doc ? toRecord(doc) : null;
  }

  /** Returns whether a segment was deleted. */
  async delete(id: string): Promise<boolean> {
    const result = await this.segments.deleteOne({ _id: id });
    return result.deletedCount === 1;
  }

  /**
   * Changes to segment definitions, from a change stream, so every replica sees
   * every change. Resolves once the stream is open; `return()` closes it.
   */
  watch(segmentId?: string): Promise<ChangeIterator<SegmentChange>> {
    const pipeline: Document[] = [{ $match: { operationType: { $in: ['insert', 'update', 'replace', 'delete'] } } }];
    if (segmentId) pipeline.push({ $match: { 'documentKey._id': segmentId } });
    const stream = this.segments.watch<SegmentDocument, ChangeStreamDocument<SegmentDocument>>(pipeline, {
      fullDocument: 'updateLookup',
    });
    return openChangeIterator(stream, toChange);
  }
}
