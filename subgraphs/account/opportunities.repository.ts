/** The `opportunities` collection of one sandbox. */
import type { Collection, Db } from 'mongodb';
import { oncePerKey } from '../../lib/subgraph/once.js';

export interface OpportunityFields {
  accountId?: string;
  name?: string;
  stage?: string;
  amount?: number;
  currency?: string;
  closeDate?: Date;
  isClosed?: boolean;
  isWon?: boolean;
}

export interface OpportunityRecord extends OpportunityFields {
  id: string;
  accountId: string;
  name: string;
  createdAt: Date;
  updatedAt: Date;
}

interface OpportunityDocument extends OpportunityFields {
  _id: string;
  accountId: string;
  name: string;
  createdAt: Date;
  updatedAt: Date;
}

const ensureIndexes = oncePerKey();

function toRecord({ _id, ...rest }: OpportunityDocument): OpportunityRecord {
  return { id: _id, ...rest };
}

export class OpportunitiesRepository {
  private readonly opportunities: Collection<OpportunityDocument>;

  constructor(private readonly db: Db) {
    this.opportunities = db.collection<OpportunityDocument>('opportunities');
  }

  ensureIndexes(): Promise<void> {
    return ensureIndexes(this.db.databaseName, () =>
      this.opportunities.createIndex({ accountId: 1, _id: 1 }, { name: 'account' }),
    );
  }

  /** One `$in` query. */
  async findByIds(ids: readonly string[]): Promise<OpportunityRecord[]> {
    const docs = await this.opportunities.find({ _id: { $in: [...ids] } }).toArray();
    return docs.map(toRecord);
  }

  /** One `$in` query for a batch of accounts, oldest first. */
  async findByAccountIds(accountIds: readonly string[]): Promise<OpportunityRecord[]> {
    const docs = await this.opportunities
      .find({ accountId: { $in: [...accountIds] } })
      .sort({ _id: 1 })
      .toArray();
    return docs.map(toRecord);
  }

  async insert(record: OpportunityRecord): Promise<OpportunityRecord> {
    const { id, ...rest } = record;
    await this.opportunities.insertOne({ _id: id, ...rest });
    return record;
  }

  async update(id: string, fields: OpportunityFields, updatedAt: Date): Promise<OpportunityRecord | null> {
    const doc = await this.opportunities.findOneAndUpdate(
      { _id: id },
      { $set: { ...fields, updatedAt } },
      { returnDocument: 'after' },
    );
    return doc ? toRecord(doc) : null;
  }
}
