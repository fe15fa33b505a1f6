/** The `segments` collection of one sandbox. */
import type { ChangeStreamDocument, Collection, Db, Document, Filter } from 'mongodb';
import { changeFeedFor, type ChangeFeedSpec } from '../../lib/subgraph/changeFeed.js';
import type { ChangeIterator } from '../../lib/subgraph/changeStream.js';
import { feedIterator } from '../../lib/subgraph/feedIterator.js';
import { oncePerKey } from '../../lib/subgraph/once.js';
import type { PageQuery } from '../../lib/subgraph/pagination.js';

const ensureIndexes = oncePerKey();

export type TargetEntity = 'PERSON' | 'ACCOUNT';

export interface SegmentFields {
  name?: string;
  description?: string | null;
  expression?: string;
  targetEntity?: TargetEntity;
  dependsOn?: string[];
}

export interface SegmentRecord {
  id: string;
  name: string;
  description: string | null;
  expression: string;
  targetEntity: TargetEntity;
  /** Ids of the segments the expression uses with `inSegment`, each once, in order of appearance. */
  dependsOn: string[];
  createdAt: Date;
  updatedAt: Date;
}

/** What the `inSegment` checks need of another segment. */
export type SegmentRef = Pick<SegmentRecord, 'id' | 'name' | 'targetEntity' | 'dependsOn'>;

interface SegmentDocument extends Omit<SegmentRecord, 'id' | 'dependsOn'> {
  _id: string;
  /** Absent on segments stored before dependencies were recorded. */
  dependsOn?: string[];
}

const REF_PROJECTION = { _id: 1, name: 1, targetEntity: 1, dependsOn: 1 } as const;

export type SegmentChangeKind = 'CREATED' | 'UPDATED' | 'DELETED';

export interface SegmentChange {
  kind: SegmentChangeKind;
  segmentId: string;
  segment: SegmentRecord | null;
}

function toRecord({ _id, dependsOn, ...rest }: SegmentDocument): SegmentRecord {
  return { id: _id, ...rest, dependsOn: dependsOn ?? [] };
}

function toRef(doc: Pick<SegmentDocument, '_id' | 'name' | 'targetEntity' | 'dependsOn'>): SegmentRef {
  return { id: doc._id, name: doc.name, targetEntity: doc.targetEntity, dependsOn: doc.dependsOn ?? [] };
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

const SEGMENTS_FEED: ChangeFeedSpec<SegmentChange> = {
  collection: 'segments',
  operations: ['insert', 'update', 'replace', 'delete'],
  fullDocument: 'updateLookup',
  map: (change: ChangeStreamDocument<Document>) => toChange(change as ChangeStreamDocument<SegmentDocument>),
};

export class SegmentsRepository {
  private readonly segments: Collection<SegmentDocument>;

  constructor(private readonly db: Db) {
    this.segments = db.collection<SegmentDocument>('segments');
  }

  /** `usedBy` and the delete check find a segment's users through a multikey index on `dependsOn`. */
  ensureIndexes(): Promise<void> {
    return ensureIndexes(this.db.databaseName, () => this.segments.createIndex({ dependsOn: 1 }, { name: 'dependsOn' }));
  }

  /** How many segments the sandbox has. */
  count(): Promise<number> {
    return this.segments.countDocuments();
  }

  /** The id, name, target and dependencies of these segments: one `$in` query. */
  async findRefs(ids: readonly string[]): Promise<SegmentRef[]> {
    if (ids.length === 0) return [];
    const docs = await this.segments.find({ _id: { $in: [...ids] } }, { projection: REF_PROJECTION }).toArray();
    return docs.map(toRef);
  }

  /** Segments that use any of these segments with `inSegment`, in id order: one query. */
  async findUsers(ids: readonly string[]): Promise<SegmentRecord[]> {
    if (ids.length === 0) return [];
    const docs = await this.segments.find({ dependsOn: { $in: [...ids] } }).sort({ _id: 1 }).toArray();
    return docs.map(toRecord);
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
    // One change stream per process for every sandbox's segments (lib/subgraph/changeFeed.ts).
    return feedIterator(changeFeedFor(this.db.client), SEGMENTS_FEED, this.db.databaseName, {
      filter: segmentId ? (change) => change.segmentId === segmentId : undefined,
    });
  }
}
