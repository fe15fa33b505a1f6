/** The `people` collection of one sandbox. The only profile module that talks to MongoDB. */
import { MongoServerError, type Collection, type Db, type Filter } from 'mongodb';
import { oncePerKey } from '../../lib/subgraph/once.js';
import type { PageQuery } from '../../lib/subgraph/pagination.js';

export interface Identity {
  namespace: string;
  value: string;
}

export interface PersonFields {
  firstName?: string | null;
  lastName?: string | null;
  jobTitle?: string | null;
  workEmail?: string | null;
}

export interface PersonRecord extends PersonFields {
  id: string;
  identities: Identity[];
  createdAt: Date;
  updatedAt: Date;
}

interface PersonDocument extends PersonFields {
  _id: string;
  identities: Identity[];
  createdAt: Date;
  updatedAt: Date;
}

const ensureIndexes = oncePerKey();

function toRecord({ _id, ...rest }: PersonDocument): PersonRecord {
  return { id: _id, ...rest };
}

/** An identity in the write already belongs to another profile (unique index). */
export class IdentityTakenError extends Error {
  constructor(cause: unknown) {
    super('An identity already belongs to another profile', { cause });
    this.name = 'IdentityTakenError';
  }
}

function isDuplicateKeyError(error: unknown): boolean {
  return error instanceof MongoServerError && error.code === 11000;
}

export class PeopleRepository {
  private readonly people: Collection<PersonDocument>;

  constructor(private readonly db: Db) {
    this.people = db.collection<PersonDocument>('people');
  }

  /** An identity belongs to at most one profile (multikey compound unique index). */
  ensureIndexes(): Promise<void> {
    return ensureIndexes(this.db.databaseName, () =>
      this.people.createIndex(
        { 'identities.namespace': 1, 'identities.value': 1 },
        { unique: true, name: 'identities_unique' },
      ),
    );
  }

  /** One `$in` query. */
  async findByIds(ids: readonly string[]): Promise<PersonRecord[]> {
    const docs = await this.people.find({ _id: { $in: [...ids] } }).toArray();
    return docs.map(toRecord);
  }

  /** Profiles holding any of these identities; at most `limit`. */
  async findByAnyIdentity(identities: readonly Identity[], limit: number): Promise<PersonRecord[]> {
    if (identities.length === 0) return [];
    const filter: Filter<PersonDocument> = {
      $or: identities.map((identity) => ({
        identities: { $elemMatch: { namespace: identity.namespace, value: identity.value } },
      })),
    };
    const docs = await this.people.find(filter).sort({ _id: 1 }).limit(limit).toArray();
    return docs.map(toRecord);
  }

  async list(page: PageQuery): Promise<PersonRecord[]> {
    const filter: Filter<PersonDocument> = page.after ? { _id: { $gt: page.after } } : {};
    const docs = await this.people.find(filter).sort({ _id: 1 }).limit(page.limit).toArray();
    return docs.map(toRecord);
  }

  /** Throws IdentityTakenError when another profile holds one of the identities. */
  async insert(record: PersonRecord): Promise<PersonRecord> {
    const { id, ...rest } = record;
    try {
      await this.people.insertOne({ _id: id, ...rest });
    } catch (error) {
      if (isDuplicateKeyError(error)) throw new IdentityTakenError(error);
      throw error;
    }
    return record;
  }

  /**
   * Sets the given fields and adds identities; returns the updated profile, or null
   * if it is gone. Throws IdentityTakenError when another profile holds an identity.
   */
  async update(id: string, fields: PersonFields, identities: readonly Identity[], updatedAt: Date): Promise<PersonRecord | null> {
    try {
      const doc = await this.people.findOneAndUpdate(
        { _id: id },
        { $set: { ...fields, updatedAt }, $addToSet: { identities: { $each: [...identities] } } },
        { returnDocument: 'after' },
      );
      return doc ? toRecord(doc) : null;
    } catch (error) {
      if (isDuplicateKeyError(error)) throw new IdentityTakenError(error);
      throw error;
    }
  }
}
