/** The `accounts` collection of one sandbox. */
import { MongoServerError, type Collection, type Db, type Filter } from 'mongodb';
import { oncePerKey } from '../../lib/subgraph/once.js';
import type { PageQuery } from '../../lib/subgraph/pagination.js';

export interface AccountFields {
  name?: string;
  domain?: string;
  industry?: string;
  annualRevenue?: number;
  employees?: number;
  country?: string;
  type?: string;
}

export interface AccountRecord extends AccountFields {
  id: string;
  name: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface AccountDocument extends AccountFields {
  _id: string;
  name: string;
  createdAt: Date;
  updatedAt: Date;
}

/** Another account already has this domain (unique index). */
export class DomainTakenError extends Error {
  constructor(cause: unknown) {
    super('Another account already has this domain', { cause });
    this.name = 'DomainTakenError';
  }
}

const ensureIndexes = oncePerKey();

export function toAccountRecord({ _id, ...rest }: AccountDocument): AccountRecord {
  return { id: _id, ...rest };
}

function rethrow(error: unknown): never {
  if (error instanceof MongoServerError && error.code === 11000) throw new DomainTakenError(error);
  throw error;
}

export class AccountsRepository {
  private readonly accounts: Collection<AccountDocument>;

  constructor(private readonly db: Db) {
    this.accounts = db.collection<AccountDocument>('accounts');
  }

  ensureIndexes(): Promise<void> {
    return ensureIndexes(this.db.databaseName, () =>
      // Sparse: accounts without a domain are not indexed, so they never collide.
      this.accounts.createIndex({ domain: 1 }, { unique: true, sparse: true, name: 'domain_unique' }),
    );
  }

  /** One `$in` query. */
  async findByIds(ids: readonly string[]): Promise<AccountRecord[]> {
    const docs = await this.accounts.find({ _id: { $in: [...ids] } }).toArray();
    return docs.map(toAccountRecord);
  }

  async findById(id: string): Promise<AccountRecord | null> {
    const doc = await this.accounts.findOne({ _id: id });
    return doc ? toAccountRecord(doc) : null;
  }

  async findByDomain(domain: string): Promise<AccountRecord | null> {
    const doc = await this.accounts.findOne({ domain });
    return doc ? toAccountRecord(doc) : null;
  }

  async exists(id: string): Promise<boolean> {
    return (await this.accounts.countDocuments({ _id: id }, { limit: 1 })) > 0;
  }

  async list(page: PageQuery): Promise<AccountRecord[]> {
    const filter: Filter<AccountDocument> = page.after ? { _id: { $gt: page.after } } : {};
    const docs = await this.accounts.find(filter).sort({ _id: 1 }).limit(page.limit).toArray();
    return docs.map(toAccountRecord);
  }

  /** Throws DomainTakenError when another account has the domain. */
  async insert(record: AccountRecord): Promise<AccountRecord> {
    const { id, ...rest } = record;
    await this.accounts.insertOne({ _id: id, ...rest }).catch(rethrow);
    return record;
  }

  /** Returns the updated account, or null if it does not exist. Throws DomainTakenError. */
  async update(id: string, fields: AccountFields, updatedAt: Date): Promise<AccountRecord | null> {
    const doc = await this.accounts
      .findOneAndUpdate({ _id: id }, { $set: { ...fields, updatedAt } }, { returnDocument: 'after' })
      .catch(rethrow);
    return doc ? toAccountRecord(doc) : null;
  }
}
