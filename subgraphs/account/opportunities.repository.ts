/** The `opportunities` collection of one sandbox. */
import type { Collection, Db } from 'mongodb';
import { oncePerKey } from '../../lib/subgraph/once.js';
import type { JsonObject } from '../../lib/subgraph/scalars.js';
import { findSourcedRecords, saveSourcedRecords, type SaveOutcome, type SourcedWrite } from './accounts.repository.js';

export interface OpportunityFields {
  accountId?: string;
  /**
   * The account the last write moved it from. Change-stream readers see only the new
   * document; this lets streaming evaluation reach the account the opportunity left.
   */
  previousAccountId?: string;
  name?: string;
  stage?: string;
  amount?: number;
  currency?: string;
  closeDate?: Date;
  isClosed?: boolean;
  isWon?: boolean;
  sourceUpdatedAt?: Date;
}

export interface OpportunityRecord extends OpportunityFields {
  id: string;
  accountId: string;
  name: string;
  attributes?: JsonObject;
  sourceKeys: string[];
  createdAt: Date;
  updatedAt: Date;
}

export interface OpportunityDocument extends OpportunityFields {
  _id: string;
  accountId: string;
  name: string;
  attributes?: JsonObject;
  /** Absent rather than empty, as for accounts (unique sparse index). */
  sourceKeys?: string[];
  createdAt: Date;
  updatedAt: Date;
}

const ensureIndexes = oncePerKey();

export function toOpportunityRecord({ _id, sourceKeys, ...rest }: OpportunityDocument): OpportunityRecord {
  return { id: _id, sourceKeys: sourceKeys ?? [], ...rest };
}

export class OpportunitiesRepository {
  private readonly opportunities: Collection<OpportunityDocument>;

  constructor(private readonly db: Db) {
    this.opportunities = db.collection<OpportunityDocument>('opportunities');
  }

  ensureIndexes(): Promise<void> {
    return ensureIndexes(this.db.databaseName, async () => {
      await this.opportunities.createIndex({ accountId: 1, _id: 1 }, { name: 'account' });
      await this.opportunities.createIndex({ sourceKeys: 1 }, { unique: true, sparse: true, name: 'sourceKeys_unique' });
    });
  }

  /** One `$in` query. */
  async findByIds(ids: readonly string[]): Promise<OpportunityRecord[]> {
    const docs = await this.opportunities.find({ _id: { $in: [...ids] } }).toArray();
    return docs.map(toOpportunityRecord);
  }

  /** Every opportunity with one of these ids or source keys: two indexed `$in` queries at once. */
  async findByIdsOrSourceKeys(ids: readonly string[], sourceKeys: readonly string[]): Promise<OpportunityRecord[]> {
    return (await findSourcedRecords(this.opportunities, ids, sourceKeys)).map(toOpportunityRecord);
  }

  /**
   * The first `limit` opportunities of each account of a batch, oldest first, in one query: a
   * `$lookup` per account whose sub-pipeline is bounded by the `account` index and the limit.
   */
  async findByAccountIds(accountIds: readonly string[], limit: number): Promise<OpportunityRecord[]> {
    const groups = await this.db
      .collection('accounts')
      .aggregate<{ items: OpportunityDocument[] }>([
        { $match: { _id: { $in: [...accountIds] } } },
        {
          $lookup: {
            from: 'opportunities',
            let: { accountId: '$_id' },
            pipeline: [{ $match: { $expr: { $eq: ['$accountId', '$$accountId'] } } }, { $sort: { _id: 1 } }, { $limit: limit }],
            as: 'items',
          },
        },
        { $project: { _id: 0, items: 1 } },
      ])
      .toArray();
    return groups.flatMap((group) => group.items.map(toOpportunityRecord));
  }

  async saveAll(writes: readonly SourcedWrite<OpportunityFields>[]): Promise<SaveOutcome<OpportunityRecord>> {
    const { failed, superseded } = await saveSourcedRecords(this.opportunities, writes);
    return { failed, superseded: new Map([...superseded].map(([index, doc]) => [index, toOpportunityRecord(doc)])) };
  }
}
