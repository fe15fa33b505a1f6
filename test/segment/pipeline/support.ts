/** A database per suite for the pipeline tests, and the two back ends side by side. */
import type { Db, Document, MongoClient } from 'mongodb';
import { connectTestClient, uniqueName } from '../../support/mongo.js';
import { buildSegmentPipeline } from '../../../subgraphs/segment/evaluation/pipeline.js';
import { loadMembers } from '../../../subgraphs/segment/evaluation/memberLoader.js';
import { compilePredicate, parseSegment, type Expr, type TargetEntity } from '../../../subgraphs/segment/language/index.js';

export const NOW = new Date(Date.UTC(2026, 5, 15, 12));
export const DAY = 86_400_000;

export interface PipelineSuite {
  client: MongoClient;
  db: Db;
  close(): Promise<void>;
}

export async function openPipelineSuite(name: string): Promise<PipelineSuite> {
  const client = await connectTestClient();
  const db = client.db(uniqueName(`seg_${name}_`));
  return {
    client,
    db,
    close: async () => {
      await db.dropDatabase();
      await client.close();
    },
  };
}

/** The pipeline's members of `expr` (text or tree), in the pipeline's order. */
export async function pipelineMembers(db: Db, expr: string | Expr, target: TargetEntity, now = NOW): Promise<string[]> {
  const tree = typeof expr === 'string' ? parseSegment(expr) : expr;
  const { collectionName, pipeline } = buildSegmentPipeline(tree, { target, now });
  const docs = await db.collection(collectionName).aggregate<Document>(pipeline).toArray();
  return docs.map((doc) => String(doc._id));
}

/** The members for which the compiled predicate holds, over `loadMembers` of `ids`, in id order. */
export async function predicateMembers(db: Db, expr: string | Expr, target: TargetEntity, ids: readonly string[], now = NOW): Promise<string[]> {
  const tree = typeof expr === 'string' ? parseSegment(expr) : expr;
  const predicate = compilePredicate(tree, target);
  const members = await loadMembers(db, target, ids);
  return members.flatMap((member) => (member && predicate(member, now) ? [member.id] : [])).sort();
}

/**
 * Small factories writing the stored layout directly (as `lib/fixtures/b2bData.ts` does), so each
 * test states exactly the data it needs. A person's link keys are `id:<id>` and `b2b_person:<key>`
 * of its source keys; its identity keys default to `Email:<id>@example.com`.
 */
export class Data {
  constructor(private readonly db: Db) {}

  async person(id: string, fields: Document = {}, keys: { sourceKeys?: string[]; identityKeys?: string[] } = {}): Promise<void> {
    const sourceKeys = keys.sourceKeys ?? [];
    await this.db.collection('people').insertOne({
      _id: id as never,
      identityKeys: keys.identityKeys ?? [`Email:${id}@example.com`],
      sourceKeys,
      absorbedIds: [],
      consents: {},
      ...fields,
      linkKeys: [`id:${id}`, ...sourceKeys.map((key) => `b2b_person:${key}`)],
      createdAt: NOW,
      updatedAt: NOW,
      version: 1,
    });
  }

  async event(id: string, identityKey: string, type: string, timestamp: Date, fields: Document = {}): Promise<void> {
    await this.db.collection('events').insertOne({ _id: id as never, identityKey, type, timestamp, ...fields, ingestedAt: NOW });
  }

  async account(id: string, fields: Document = {}): Promise<void> {
    await this.db.collection('accounts').insertOne({ _id: id as never, name: id, createdAt: NOW, updatedAt: NOW, ...fields });
  }

  async opportunity(id: string, accountId: string, fields: Document = {}): Promise<void> {
    await this.db.collection('opportunities').insertOne({ _id: id as never, accountId, name: id, createdAt: NOW, updatedAt: NOW, ...fields });
  }

  async link(id: string, accountId: string, personKey: string, fields: Document = {}): Promise<void> {
    await this.db.collection('accountPersonRelations').insertOne({ _id: id as never, accountId, personKey, isPrimary: false, createdAt: NOW, updatedAt: NOW, ...fields });
  }

  async contact(id: string, opportunityId: string, personKey: string, fields: Document = {}): Promise<void> {
    await this.db.collection('opportunityContacts').insertOne({ _id: id as never, opportunityId, personKey, isPrimary: false, createdAt: NOW, updatedAt: NOW, ...fields });
  }

  async membership(segmentId: string, memberId: string, memberType: TargetEntity, status: 'realized' | 'existing' | 'exited'): Promise<void> {
    await this.db.collection('segmentMemberships').insertOne({
      _id: `${segmentId}:${memberId}` as never,
      segmentId,
      memberId,
      memberType,
      status,
      lastQualificationTime: NOW,
      enteredAt: NOW,
      exitedAt: status === 'exited' ? NOW : null,
      updatedAt: NOW,
      runId: 'test',
    });
  }
}

export const daysAgo = (days: number): Date => new Date(NOW.getTime() - days * DAY);
