/**
 * Platform data for tenancy, in the platform database: sandboxes, API keys and
 * the audit log of admin actions. The only module here that imports `mongodb`.
 */
import type { ChangeStream, Collection, Db } from 'mongodb';
import type { Role } from '../auth/roles.js';

export interface SandboxRecord {
  _id: string;
  createdAt: Date;
  createdBy: string | null;
  /** Set when deleted. The record stays, so the name is never given to anyone again. */
  deletedAt?: Date | null;
}

export type ApiKeyRevokedReason = 'sandboxDeleted';

export interface ApiKeyRecord {
  _id: string;
  /** SHA-256 of the key; the key itself is never stored. */
  hash: string;
  hint: string;
  name: string;
  sandbox: string;
  role: Role;
  createdAt: Date;
  createdBy: string | null;
  revokedAt: Date | null;
  /**
   * Why the key was revoked, when not by `revokeApiKey`: its sandbox's deletion, so the key is
   * refused saying so by whichever process reads it first, before or after it hears of the deletion.
   */
  revokedReason?: ApiKeyRevokedReason;
  lastUsedAt: Date | null;
  /** May create, see and delete every sandbox. Absent on keys made before the permission existed. */
  platformAdmin?: boolean;
}

export interface AuditEntry {
  _id: string;
  at: Date;
  sandbox: string;
  actor: { keyId: string | null; role: Role };
  action: string;
  target: string;
  details?: Record<string, unknown>;
}

export class TenancyRepository {
  private readonly sandboxes: Collection<SandboxRecord>;
  private readonly apiKeys: Collection<ApiKeyRecord>;
  private readonly audit: Collection<AuditEntry>;

  constructor(platformDb: Db) {
    this.sandboxes = platformDb.collection('sandboxes');
    this.apiKeys = platformDb.collection('apiKeys');
    this.audit = platformDb.collection('auditLog');
  }

  async ensureIndexes(): Promise<void> {
    await this.apiKeys.createIndex({ hash: 1 }, { unique: true, name: 'hash_unique' });
    await this.apiKeys.createIndex({ sandbox: 1, createdAt: 1 }, { name: 'sandbox_created' });
    await this.audit.createIndex({ sandbox: 1, at: -1 }, { name: 'sandbox_at' });
  }

  /** Inserts the sandbox; false when the name is taken, now or before. */
  async insertSandbox(record: SandboxRecord): Promise<boolean> {
    const result = await this.sandboxes.updateOne({ _id: record._id }, { $setOnInsert: record }, { upsert: true });
    return result.upsertedCount === 1;
  }

  findSandbox(name: string): Promise<SandboxRecord | null> {
    return this.sandboxes.findOne({ _id: name, deletedAt: null });
  }

  listSandboxes(): Promise<SandboxRecord[]> {
    return this.sandboxes.find({ deletedAt: null }).sort({ _id: 1 }).toArray();
  }

  async markSandboxDeleted(name: string, at: Date): Promise<void> {
    await this.sandboxes.updateOne({ _id: name }, { $set: { deletedAt: at } });
  }

  /** True only for a sandbox recorded as deleted (one never recorded is not "deleted"). */
  async isSandboxDeleted(name: string): Promise<boolean> {
    return (await this.sandboxes.countDocuments({ _id: name, deletedAt: { $ne: null } }, { limit: 1 })) > 0;
  }

  async listDeletedSandboxNames(): Promise<string[]> {
    const records = await this.sandboxes.find({ deletedAt: { $ne: null } }, { projection: { _id: 1 } }).toArray();
    return records.map((record) => record._id);
  }

  /** Every change to the sandboxes collection; the caller reads the changed record again with isSandboxDeleted. */
  watchSandboxes(): ChangeStream<SandboxRecord> {
    return this.sandboxes.watch([], {});
  }

  /** Every change to the apiKeys collection, so gateways drop a revoked key from their caches at once. */
  watchApiKeys(): ChangeStream<ApiKeyRecord> {
    return this.apiKeys.watch([], {});
  }

  async insertApiKey(record: ApiKeyRecord): Promise<void> {
    await this.apiKeys.insertOne(record);
  }

  /**
   * Idempotent: a key with this hash is created once, whatever runs it again; its platform
   * permission follows the record given (a configured bootstrap key made before the permission existed gets it).
   */
  async upsertApiKeyByHash(record: ApiKeyRecord): Promise<void> {
    const { hash, platformAdmin, ...rest } = record;
    await this.apiKeys.updateOne(
      { hash },
      { $setOnInsert: { ...rest, hash }, $set: { platformAdmin: platformAdmin === true } },
      { upsert: true },
    );
  }

  /**
   * Grants the platform permission to a sandbox's active bootstrap keys made before it existed
   * (generated once at the first start, so there is no other way to find them).
   */
  async grantPlatformAdminToBootstrapKeys(sandbox: string): Promise<void> {
    await this.apiKeys.updateMany(
      { sandbox, name: 'bootstrap', createdBy: null, revokedAt: null, platformAdmin: { $exists: false } },
      { $set: { platformAdmin: true } },
    );
  }

  countActivePlatformAdmins(): Promise<number> {
    return this.apiKeys.countDocuments({ platformAdmin: true, revokedAt: null });
  }

  findApiKeyByHash(hash: string): Promise<ApiKeyRecord | null> {
    return this.apiKeys.findOne({ hash });
  }

  listApiKeys(sandbox: string): Promise<ApiKeyRecord[]> {
    return this.apiKeys.find({ sandbox }).sort({ createdAt: 1 }).toArray();
  }

  countActiveApiKeys(sandbox: string, role: Role): Promise<number> {
    return this.apiKeys.countDocuments({ sandbox, role, revokedAt: null });
  }

  /** Revokes a key of this sandbox; null when there is none (the sandbox is part of the filter). */
  async revokeApiKey(sandbox: string, id: string, at: Date): Promise<ApiKeyRecord | null> {
    return this.apiKeys.findOneAndUpdate(
      { _id: id, sandbox },
      { $set: { revokedAt: at } },
      { returnDocument: 'after' },
    );
  }

  /** Revokes every active key of a sandbox being deleted; keys revoked before keep their own reason. */
  async revokeKeysOfDeletedSandbox(sandbox: string, at: Date): Promise<void> {
    await this.apiKeys.updateMany({ sandbox, revokedAt: null }, { $set: { revokedAt: at, revokedReason: 'sandboxDeleted' } });
  }

  async touchApiKey(id: string, at: Date): Promise<void> {
    await this.apiKeys.updateOne({ _id: id }, { $set: { lastUsedAt: at } });
  }

  async appendAudit(entry: AuditEntry): Promise<void> {
    await this.audit.insertOne(entry);
  }

  listAudit(sandbox: string, limit: number, before?: Date): Promise<AuditEntry[]> {
    return this.audit
      .find({ sandbox, ...(before ? { at: { $lt: before } } : {}) })
      .sort({ at: -1 })
      .limit(limit)
      .toArray();
  }
}
