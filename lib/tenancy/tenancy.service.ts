/**
 * Sandboxes, API keys and the audit log: the rules. A key belongs to one
 * sandbox and has a role; admin operations act on the caller's own sandbox or
 * on sandboxes created from it. Anything else answers exactly as a missing
 * record does, so nothing about other sandboxes is revealed.
 */
import { randomUUID } from 'node:crypto';
import { apiKeyHint, generateApiKey, hashApiKey, looksLikeApiKey } from '../auth/apiKeys.js';
import { isRole, requireRole, type Principal, type Role } from '../auth/roles.js';
import { DomainError, ErrorCode, badInput, notFound } from '../errors.js';
import { DEFAULT_SANDBOX, parseSandboxName } from '../sandbox.js';
import type { ApiKeyRecord, AuditEntry, SandboxRecord, TenancyRepository } from './tenancy.repository.js';

/** How often `lastUsedAt` is written at most, so authentication does not write on every request. */
const LAST_USED_RESOLUTION_MS = 60_000;

export interface TenancyDependencies {
  repository: TenancyRepository;
  dropSandboxData: (sandbox: string) => Promise<void>;
  now?: () => Date;
  newId?: () => string;
}

export interface ApiKeyView {
  id: string;
  name: string;
  sandbox: string;
  role: Role;
  hint: string;
  createdAt: Date;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

export interface CreatedApiKey {
  apiKey: ApiKeyView;
  /** The secret, returned once and never again. */
  key: string;
}

export interface SandboxView {
  name: string;
  createdAt: Date;
}

const toKeyView = (record: ApiKeyRecord): ApiKeyView => ({
  id: record._id,
  name: record.name,
  sandbox: record.sandbox,
  role: record.role,
  hint: record.hint,
  createdAt: record.createdAt,
  revokedAt: record.revokedAt,
  lastUsedAt: record.lastUsedAt,
});

const toSandboxView = (record: SandboxRecord): SandboxView => ({ name: record._id, createdAt: record.createdAt });

const unauthenticated = () =>
  new DomainError(ErrorCode.Unauthenticated, 'A valid API key is required: send it as "Authorization: Bearer <key>"');

export class TenancyService {
  private readonly repository: TenancyRepository;
  private readonly dropSandboxData: (sandbox: string) => Promise<void>;
  private readonly now: () => Date;
  private readonly newId: () => string;

  constructor(deps: TenancyDependencies) {
    this.repository = deps.repository;
    this.dropSandboxData = deps.dropSandboxData;
    this.now = deps.now ?? (() => new Date());
    this.newId = deps.newId ?? (() => randomUUID());
  }

  /** Who a key belongs to; one error for unknown, revoked and malformed keys alike. */
  async authenticate(key: string): Promise<Principal> {
    if (!looksLikeApiKey(key)) throw unauthenticated();
    const record = await this.repository.findApiKeyByHash(hashApiKey(key));
    if (!record || record.revokedAt) throw unauthenticated();
    const now = this.now();
    if (!record.lastUsedAt || now.getTime() - record.lastUsedAt.getTime() >= LAST_USED_RESOLUTION_MS) {
      await this.repository.touchApiKey(record._id, now);
    }
    return { sandbox: record.sandbox, role: record.role, keyId: record._id };
  }

  /**
   * Makes sure a sandbox exists with an admin key. With `key` given (from config)
   * that key is the admin key, whatever runs this again; without it, a key is
   * generated only when the sandbox has no active admin key, and returned once.
   */
  async bootstrap(sandbox: string = DEFAULT_SANDBOX, key?: string): Promise<{ generatedKey?: string }> {
    const name = parseSandboxName(sandbox);
    const now = this.now();
    await this.repository.ensureIndexes();
    await this.repository.insertSandbox({ _id: name, createdAt: now, createdBy: null });
    if (key !== undefined) {
      if (!looksLikeApiKey(key)) {
        throw badInput('CDP_BOOTSTRAP_KEY must look like a generated key: "cdpk_" followed by 43 URL-safe base64 characters');
      }
      await this.repository.upsertApiKeyByHash(this.newKeyRecord(name, 'admin', 'bootstrap', null, hashApiKey(key), key, now));
      return {};
    }
    if ((await this.repository.countActiveApiKeys(name, 'admin')) > 0) return {};
    const generated = generateApiKey();
    await this.repository.insertApiKey(this.newKeyRecord(name, 'admin', 'bootstrap', null, generated.hash, generated.key, now));
    return { generatedKey: generated.key };
  }

  async createSandbox(actor: Principal, rawName: string): Promise<{ sandbox: SandboxView; adminKey: CreatedApiKey }> {
    requireRole(actor, 'admin');
    const name = parseSandboxName(rawName);
    const now = this.now();
    const created = await this.repository.insertSandbox({ _id: name, createdAt: now, createdBy: actor.sandbox });
    if (!created) {
      throw new DomainError(
        ErrorCode.Conflict,
        `The sandbox name ${JSON.stringify(name)} is taken (names are never reused, even after a delete); choose another`,
      );
    }
    const adminKey = await this.issueKey(name, 'admin', 'initial admin key', actor.keyId ?? null);
    await this.audit(actor, 'sandbox.create', `sandbox:${name}`);
    return { sandbox: { name, createdAt: now }, adminKey };
  }

  async listSandboxes(actor: Principal): Promise<SandboxView[]> {
    requireRole(actor, 'admin');
    const all = await this.repository.listSandboxes();
    return all.filter((record) => this.manages(actor, record)).map(toSandboxView);
  }

  async resetSandbox(actor: Principal, name: string): Promise<SandboxView> {
    const record = await this.managedSandbox(actor, name);
    await this.dropSandboxData(record._id);
    await this.audit(actor, 'sandbox.reset', `sandbox:${record._id}`);
    return toSandboxView(record);
  }

  async deleteSandbox(actor: Principal, name: string): Promise<SandboxView> {
    const record = await this.managedSandbox(actor, name);
    if (record._id === DEFAULT_SANDBOX) {
      throw badInput('The default sandbox cannot be deleted; use resetSandbox to empty it');
    }
    // Keys go first, so no request is served from a sandbox that is half deleted; the name
    // stays taken, so whatever a late request still writes is never seen by a new owner.
    await this.repository.revokeAllApiKeys(record._id, this.now());
    await this.repository.markSandboxDeleted(record._id, this.now());
    await this.dropSandboxData(record._id);
    await this.audit(actor, 'sandbox.delete', `sandbox:${record._id}`);
    return toSandboxView(record);
  }

  async createApiKey(actor: Principal, input: { name: string; role: string }): Promise<CreatedApiKey> {
    requireRole(actor, 'admin');
    const name = input.name.trim();
    if (name.length === 0 || name.length > 100) throw badInput('An API key needs a name of 1 to 100 characters');
    if (!isRole(input.role)) throw badInput('role must be one of viewer, editor, admin');
    const created = await this.issueKey(actor.sandbox, input.role, name, actor.keyId ?? null);
    await this.audit(actor, 'apiKey.create', `apiKey:${created.apiKey.id}`, { role: input.role, name });
    return created;
  }

  async listApiKeys(actor: Principal): Promise<ApiKeyView[]> {
    requireRole(actor, 'admin');
    return (await this.repository.listApiKeys(actor.sandbox)).map(toKeyView);
  }

  async revokeApiKey(actor: Principal, id: string): Promise<ApiKeyView> {
    requireRole(actor, 'admin');
    const keys = await this.repository.listApiKeys(actor.sandbox);
    const target = keys.find((key) => key._id === id);
    if (!target) throw notFound('API key', id);
    const otherAdmins = keys.filter((key) => key.role === 'admin' && !key.revokedAt && key._id !== id);
    if (target.role === 'admin' && !target.revokedAt && otherAdmins.length === 0) {
      throw new DomainError(ErrorCode.Conflict, 'This is the last admin key of the sandbox; create another admin key before revoking it');
    }
    const revoked = await this.repository.revokeApiKey(actor.sandbox, id, this.now());
    if (!revoked) throw notFound('API key', id);
    await this.audit(actor, 'apiKey.revoke', `apiKey:${id}`);
    return toKeyView(revoked);
  }

  /** Records an admin action (keys, destinations, sandboxes) in the caller's sandbox's log. */
  async audit(actor: Principal, action: string, target: string, details?: Record<string, unknown>): Promise<void> {
    const entry: AuditEntry = {
      _id: this.newId(),
      at: this.now(),
      sandbox: actor.sandbox,
      actor: { keyId: actor.keyId ?? null, role: actor.role },
      action,
      target,
      ...(details ? { details } : {}),
    };
    await this.repository.appendAudit(entry);
  }

  async auditLog(actor: Principal, first = 50, before?: Date): Promise<AuditEntry[]> {
    requireRole(actor, 'admin');
    if (!Number.isInteger(first) || first < 1 || first > 500) throw badInput('first must be from 1 to 500');
    return this.repository.listAudit(actor.sandbox, first, before);
  }

  private manages(actor: Principal, record: SandboxRecord): boolean {
    return record._id === actor.sandbox || record.createdBy === actor.sandbox;
  }

  private async managedSandbox(actor: Principal, rawName: string): Promise<SandboxRecord> {
    requireRole(actor, 'admin');
    const name = parseSandboxName(rawName);
    const record = await this.repository.findSandbox(name);
    if (!record || !this.manages(actor, record)) throw notFound('Sandbox', name);
    return record;
  }

  private async issueKey(sandbox: string, role: Role, name: string, createdBy: string | null): Promise<CreatedApiKey> {
    const generated = generateApiKey();
    const record = this.newKeyRecord(sandbox, role, name, createdBy, generated.hash, generated.key, this.now());
    await this.repository.insertApiKey(record);
    return { apiKey: toKeyView(record), key: generated.key };
  }

  private newKeyRecord(
    sandbox: string,
    role: Role,
    name: string,
    createdBy: string | null,
    hash: string,
    key: string,
    now: Date,
  ): ApiKeyRecord {
    return {
      _id: this.newId(),
      hash,
      hint: apiKeyHint(key),
      name,
      sandbox,
      role,
      createdAt: now,
      createdBy,
      revokedAt: null,
      lastUsedAt: null,
    };
  }
}
