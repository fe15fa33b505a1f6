/** The `accountPersonRelations` collection of one sandbox: which person works at which account. */
import { MongoServerError, type Collection, type Db } from 'mongodb';
import { oncePerKey } from '../../lib/subgraph/once.js';
import { toAccountRecord, type AccountDocument, type AccountRecord } from './accounts.repository.js';

export interface RelationRecord {
  id: string;
  accountId: string;
  personId: string;
  isPrimary: boolean;
  jobRole?: string;
  createdAt: Date;
  updatedAt: Date;
}

/** A relation with its account joined in (null when the account is gone). */
export interface RelationWithAccount extends RelationRecord {
  account: AccountRecord | null;
}

interface RelationDocument {
  _id: string;
  accountId: string;
  personId: string;
  isPrimary: boolean;
  jobRole?: string;
  createdAt: Date;
  updatedAt: Date;
}

const ensureIndexes = oncePerKey();

function toRecord({ _id, ...rest }: RelationDocument): RelationRecord {
  return { id: _id, ...rest };
}

export class RelationsRepository {
  private readonly relations: Collection<RelationDocument>;

  constructor(private readonly db: Db) {
    this.relations = db.collection<RelationDocument>('accountPersonRelations');
  }

  ensureIndexes(): Promise<void> {
    return ensureIndexes(this.db.databaseName, async () => {
      await this.relations.createIndex({ accountId: 1, personId: 1 }, { unique: true, name: 'account_person_unique' });
      await this.relations.createIndex({ personId: 1 }, { name: 'person' });
    });
  }

  /**
   * Every relation of a batch of people with its account, in ONE query (an
   * aggregate with `$lookup`), so `Profile.account` for a page of profiles
   * costs one round trip however many profiles it has.
   */
  async findByPersonIdsWithAccounts(personIds: readonly string[]): Promise<RelationWithAccount[]> {
    const docs = await this.relations
      .aggregate<RelationDocument & { account: AccountDocument[] }>([
        { $match: { personId: { $in: [...personIds] } } },
        { $lookup: { from: 'accounts', localField: 'accountId', foreignField: '_id', as: 'account' } },
        { $sort: { _id: 1 } },
      ])
      .toArray();
    return docs.map(({ account, ...relation }) => ({
      ...toRecord(relation),
      account: account[0] ? toAccountRecord(account[0]) : null,
    }));
  }

  /** One `$in` query for a batch of accounts. */
  async findByAccountIds(accountIds: readonly string[]): Promise<RelationRecord[]> {
    const docs = await this.relations
      .find({ accountId: { $in: [...accountIds] } })
      .sort({ _id: 1 })
      .toArray();
    return docs.map(toRecord);
  }

  /**
   * Creates or updates the (account, person) link. `isPrimary` and `jobRole`
   * left undefined keep their value (a new link is not primary).
   */
  async upsert(
    link: { accountId: string; personId: string; isPrimary?: boolean; jobRole?: string },
    newId: string,
    now: Date,
  ): Promise<{ created: boolean; relation: RelationRecord }> {
    const set: Partial<RelationDocument> = { updatedAt: now };
    if (link.isPrimary !== undefined) set.isPrimary = link.isPrimary;
    if (link.jobRole !== undefined) set.jobRole = link.jobRole;
    const setOnInsert: Partial<RelationDocument> = { _id: newId, createdAt: now };
    if (link.isPrimary === undefined) setOnInsert.isPrimary = false;

    const write = () =>
      this.relations.findOneAndUpdate(
        { accountId: link.accountId, personId: link.personId },
        { $set: set, $setOnInsert: setOnInsert },
        { upsert: true, returnDocument: 'after', includeResultMetadata: true },
      );
    // Two concurrent upserts of a new pair: one inserts, the other hits the unique
    // index and, retried, updates.
    const result = await write().catch((error: unknown) => {
      if (error instanceof MongoServerError && error.code === 11000) return write();
      throw error;
    });
    if (!result.value) throw new Error('upsert returned no document');
    return { created: result.lastErrorObject?.updatedExisting === false, relation: toRecord(result.value) };
  }

  /** Makes `accountId` the person's only primary account by clearing the flag elsewhere. */
  async clearOtherPrimaries(personId: string, accountId: string, now: Date): Promise<void> {
    await this.relations.updateMany(
      { personId, accountId: { $ne: accountId }, isPrimary: true },
      { $set: { isPrimary: false, updatedAt: now } },
    );
  }
}
