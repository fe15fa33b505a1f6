/**
 * Links between a person and an account (`accountPersonRelations`) or an opportunity
 * (`opportunityContacts`) in one sandbox. The person is stored as a person key
 * ("id:<profileId>" or "b2b_person:<sourceKey>"), so links survive profile merges and
 * unmerges untouched and may arrive before their person does.
 */
import type { AnyBulkWriteOperation, Collection, Db, Document } from 'mongodb';
import { oncePerKey } from '../../lib/subgraph/once.js';

/** How one kind of link is stored; documents keep readable field names for the segment evaluator. */
export interface PersonLinkKind {
  collection: 'accountPersonRelations' | 'opportunityContacts';
  /** The field holding the account's or opportunity's id. */
  targetField: 'accountId' | 'opportunityId';
  /** The collection the target lives in, for joins. */
  targetCollection: 'accounts' | 'opportunities';
  roleField: 'jobRole' | 'role';
  /** Within what a primary link is the only one: the person's accounts, or the opportunity's contacts. */
  primaryPer: 'person' | 'target';
}

export const ACCOUNT_PERSON_LINKS: PersonLinkKind = {
  collection: 'accountPersonRelations',
  targetField: 'accountId',
  targetCollection: 'accounts',
  roleField: 'jobRole',
  primaryPer: 'person',
};

export const OPPORTUNITY_CONTACTS: PersonLinkKind = {
  collection: 'opportunityContacts',
  targetField: 'opportunityId',
  targetCollection: 'opportunities',
  roleField: 'role',
  primaryPer: 'target',
};

export interface PersonLink {
  id: string;
  targetId: string;
  personKey: string;
  isPrimary: boolean;
  role?: string;
  sourceKey?: string;
  createdAt: Date;
  updatedAt: Date;
}

/** A link with its account or opportunity document joined in (null when that is gone). */
export interface PersonLinkWithTarget<T> extends PersonLink {
  target: T | null;
}

/** One link's write after a batch was planned; undefined fields keep their stored value. */
export interface PersonLinkWrite {
  id: string;
  targetId: string;
  personKey: string;
  isPrimary?: boolean;
  role?: string;
  sourceKey?: string;
  now: Date;
}

const ensureIndexes = oncePerKey();

export class PersonLinksRepository {
  private readonly links: Collection<Document>;

  constructor(
    private readonly db: Db,
    private readonly kind: PersonLinkKind,
  ) {
    this.links = db.collection(kind.collection);
  }

  ensureIndexes(): Promise<void> {
    const { targetField } = this.kind;
    return ensureIndexes(`${this.db.databaseName}.${this.kind.collection}`, async () => {
      await this.links.createIndex({ [targetField]: 1, personKey: 1 }, { unique: true, name: 'target_personKey_unique' });
      await this.links.createIndex({ personKey: 1 }, { name: 'personKey' });
    });
  }

  private toLink(doc: Document): PersonLink {
    const link: PersonLink = {
      id: doc._id,
      targetId: doc[this.kind.targetField],
      personKey: doc.personKey,
      isPrimary: doc.isPrimary === true,
      createdAt: doc.createdAt,
      updatedAt: doc.updatedAt,
    };
    if (typeof doc[this.kind.roleField] === 'string') link.role = doc[this.kind.roleField];
    if (typeof doc.sourceKey === 'string') link.sourceKey = doc.sourceKey;
    return link;
  }

  /** Every link of these person keys, in one query. */
  async findByPersonKeys(personKeys: readonly string[]): Promise<PersonLink[]> {
    if (personKeys.length === 0) return [];
    const docs = await this.links.find({ personKey: { $in: [...personKeys] } }).toArray();
    return docs.map((doc) => this.toLink(doc));
  }

  /**
   * The first `limit` links of each account or opportunity of a batch, oldest first, in one query:
   * a `$lookup` per target whose sub-pipeline is bounded by the target index and the limit.
   */
  async findByTargetIds(targetIds: readonly string[], limit: number): Promise<PersonLink[]> {
    const groups = await this.db
      .collection(this.kind.targetCollection)
      .aggregate<{ items: Document[] }>([
        { $match: { _id: { $in: [...targetIds] } } },
        {
          $lookup: {
            from: this.kind.collection,
            let: { targetId: '$_id' },
            pipeline: [{ $match: { $expr: { $eq: [`$${this.kind.targetField}`, '$$targetId'] } } }, { $sort: { _id: 1 } }, { $limit: limit }],
            as: 'items',
          },
        },
        { $project: { _id: 0, items: 1 } },
      ])
      .toArray();
    return groups.flatMap((group) => group.items.map((doc) => this.toLink(doc)));
  }

  /**
   * Every link of a batch of person keys with its account or opportunity, in ONE
   * query (an aggregate with `$lookup`), so a page of profiles costs one round trip.
   */
  async findByPersonKeysWithTargets<T>(personKeys: readonly string[], toTarget: (doc: Document) => T): Promise<PersonLinkWithTarget<T>[]> {
    const docs = await this.links
      .aggregate([
        { $match: { personKey: { $in: [...personKeys] } } },
        { $lookup: { from: this.kind.targetCollection, localField: this.kind.targetField, foreignField: '_id', as: 'target' } },
        { $sort: { _id: 1 } },
      ])
      .toArray();
    return docs.map(({ target, ...doc }) => ({ ...this.toLink(doc), target: target[0] ? toTarget(target[0]) : null }));
  }

  /**
   * Writes a planned batch in one ordered bulkWrite: each link upserted by its
   * (target, person key) pair, then every other link of the same scope made non-primary
   * for each link that ends the batch primary.
   */
  async saveAll(writes: readonly PersonLinkWrite[], primaries: readonly { targetId: string; personKey: string; now: Date }[]): Promise<void> {
    if (writes.length === 0) return;
    const { targetField, roleField } = this.kind;
    const operations: AnyBulkWriteOperation<Document>[] = writes.map((write) => {
      const set: Document = { updatedAt: write.now };
      if (write.isPrimary !== undefined) set.isPrimary = write.isPrimary;
      if (write.role !== undefined) set[roleField] = write.role;
      if (write.sourceKey !== undefined) set.sourceKey = write.sourceKey;
      const setOnInsert: Document = { _id: write.id, createdAt: write.now };
      if (write.isPrimary === undefined) setOnInsert.isPrimary = false;
      return {
        updateOne: {
          filter: { [targetField]: write.targetId, personKey: write.personKey },
          update: { $set: set, $setOnInsert: setOnInsert },
          // Two requests inserting the same new pair: the server retries the loser as an update.
          upsert: true,
        },
      };
    });
    for (const primary of primaries) {
      const scope = this.kind.primaryPer === 'person'
        ? { personKey: primary.personKey, [targetField]: { $ne: primary.targetId } }
        : { [targetField]: primary.targetId, personKey: { $ne: primary.personKey } };
      operations.push({ updateMany: { filter: { ...scope, isPrimary: true }, update: { $set: { isPrimary: false, updatedAt: primary.now } } } });
    }
    await this.links.bulkWrite(operations, { ordered: true });
  }
}
