/**
 * Sandboxes, API keys and the audit log: the rules. A key belongs to one
 * sandbox and has a role; admin operations act on the caller's own sandbox.
 * Creating and deleting sandboxes, and seeing all of them, needs a platform
 * admin key (the bootstrap key, or one a platform admin made). A sandbox a key
 * cannot see answers exactly as a missing one does, and calls only platform
 * admins may make are refused before any name is looked at, so no answer
 * reveals another sandbox's name.
 */
import { randomUUID } from 'node:crypto';
import { apiKeyHint, generateApiKey, hashApiKey, looksLikeApiKey } from '../auth/apiKeys.js';
import { isRole, requirePlatformAdmin, requireRole, type Principal, type Role } from '../auth/roles.js';
import { DomainError, ErrorCode, badInput, notFound } from '../errors.js';
import { DEFAULT_SANDBOX, parseSandboxName } from '../sandbox.js';
import { sandboxDeleted } from './deletedSandboxes.js';
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
  platformAdmin: boolean;
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
  platformAdmin: record.platformAdmin === true,
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

  /**
   * Who a key belongs to; one error for unknown, revoked and malformed keys alike, except a key
   * revoked by its sandbox's deletion: its holder is told the sandbox is gone, as everywhere else.
   */
  async authenticate(key: string): Promise<Principal> {
    if (!looksLikeApiKey(key)) throw unauthenticated();
    const record = await this.repository.findApiKeyByHash(hashApiKey(key));
    if (!record) throw unauthenticated();
    if (record.revokedAt) throw record.revokedReason === 'sandboxDeleted' ? sandboxDeleted(record.sandbox) : unauthenticated();
    const now = this.now();
    if (!record.lastUsedAt || now.getTime() - record.lastUsedAt.getTime() >= LAST_USED_RESOLUTION_MS) {
      await this.repository.touchApiKey(record._id, now);
    }
    return { sandbox: record.sandbox, role: record.role, keyId: record._id, ...(record.platformAdmin ? { platformAdmin: true } : {}) };
  }

  /**
   * Makes sure a sandbox exists with an admin key. With `key` given (from config)
   * that key is the admin key, whatever runs this again; without it, a key is
   * generated only when the sandbox has no active admin key, and returned once.
   * The bootstrap key of the default sandbox is also the platform admin.
   */
  async bootstrap(sandbox: string = DEFAULT_SANDBOX, key?: string): Promise<{ generatedKey?: string }> {
    const name = parseSandboxName(sandbox);
    const platformAdmin = name === DEFAULT_SANDBOX;
    const now = this.now();
    await this.repository.ensureIndexes();
    await this.repository.insertSandbox({ _id: name, createdAt: now, createdBy: null });
    if (key !== undefined) {
      if (!looksLikeApiKey(key)) {
        throw badInput('CDP_BOOTSTRAP_KEY must look like a generated key: "cdpk_" followed by 43 URL-safe base64 characters');
      }
      const record = this.newKeyRecord(name, 'admin', 'bootstrap', null, hashApiKey(key), key, now);
      await this.repository.upsertApiKeyByHash({ ...record, platformAdmin });
      return {};
    }
    if ((await this.repository.countActiveApiKeys(name, 'admin')) > 0) {
      if (platformAdmin) await this.repository.grantPlatformAdminToBootstrapKeys(name);
      return {};
    }
    const generated = generateApiKey();
    const record = this.newKeyRecord(name, 'admin', 'bootstrap', null, generated.hash, generated.key, now);
    await this.repository.insertApiKey(platformAdmin ? { ...record, platformAdmin } : record);
    return { generatedKey: generated.key };
  }

  /** Platform admins only; they see every name, so a taken one can answer CONFLICT without revealing anything. */
  async createSandbox(actor: Principal, rawName: string): Promise<{ sandbox: SandboxView; adminKey: CreatedApiKey }> {
    await this.requireLiveSandbox(actor);
    requirePlatformAdmin(actor);
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
    await this.requireLiveSandbox(actor);
    requireRole(actor, 'admin');
    const all = await this.repository.listSandboxes();
    return all.filter((record) => this.sees(actor, record)).map(toSandboxView);
  }

  async resetSandbox(actor: Principal, name: string): Promise<SandboxView> {
    await this.requireLiveSandbox(actor);
    requireRole(actor, 'admin');
    const record = await this.visibleSandbox(actor, name);
    await this.dropSandboxData(record._id);
    await this.audit(actor, 'sandbox.reset', `sandbox:${record._id}`);
    return toSandboxView(record);
  }

  async deleteSandbox(actor: Principal, name: string): Promise<SandboxView> {
    await this.requireLiveSandbox(actor);
    requirePlatformAdmin(actor);
    const record = await this.visibleSandbox(actor, name);
    if (record._id === DEFAULT_SANDBOX) {
      throw badInput('The default sandbox cannot be deleted; use resetSandbox to empty it');
    }
    // Keys go first, so no request is served from a sandbox that is half deleted (a process that
    // reads a key before it hears of the deletion learns it from the key); the name stays taken,
    // so whatever a late request still writes is never seen by a new owner.
    await this.repository.revokeKeysOfDeletedSandbox(record._id, this.now());
    await this.repository.markSandboxDeleted(record._id, this.now());
    await this.dropSandboxData(record._id);
    await this.audit(actor, 'sandbox.delete', `sandbox:${record._id}`);
    return toSandboxView(record);
  }

  /** `platformAdmin: true` grants the platform permission: only a platform admin may, and only to an admin key. */
  async createApiKey(actor: Principal, input: { name: string; role: string; platformAdmin?: boolean | null }): Promise<CreatedApiKey> {
    await this.requireLiveSandbox(actor);
    requireRole(actor, 'admin');
    const platformAdmin = input.platformAdmin === true;
    if (platformAdmin) requirePlatformAdmin(actor);
    const name = input.name.trim();
    if (name.length === 0 || name.length > 100) throw badInput('An API key needs a name of 1 to 100 characters');
    if (!isRole(input.role)) throw badInput('role must be one of viewer, editor, admin');
    if (platformAdmin && input.role !== 'admin') throw badInput('A platform admin key must have the admin role', { field: 'role' });
    const created = await this.issueKey(actor.sandbox, input.role, name, actor.keyId ?? null, platformAdmin);
    await this.audit(actor, 'apiKey.create', `apiKey:${created.apiKey.id}`, { role: input.role, name, ...(platformAdmin ? { platformAdmin } : {}) });
    return created;
  }

  async listApiKeys(actor: Principal): Promise<ApiKeyView[]> {
    await this.requireLiveSandbox(actor);
    requireRole(actor, 'admin');
    return (await this.repository.listApiKeys(actor.sandbox)).map(toKeyView);
  }

  async revokeApiKey(actor: Principal, id: string): Promise<ApiKeyView> {
    await this.requireLiveSandbox(actor);
    requireRole(actor, 'admin');
    const keys = await this.repository.listApiKeys(actor.sandbox);
    const target = keys.find((key) => key._id === id);
    if (!target) throw notFound('API key', id);
    const otherAdmins = keys.filter((key) => key.role === 'admin' && !key.revokedAt && key._id !== id);
    if (target.role === 'admin' && !target.revokedAt && otherAdmins.length === 0) {
      throw new DomainError(ErrorCode.Conflict, 'This is the last admin key of the sandbox; create another admin key before revoking it');
    }
    if (target.platformAdmin && !target.revokedAt && (await this.repository.countActivePlatformAdmins()) <= 1) {
      throw new DomainError(ErrorCode.Conflict, 'This is the last platform admin key; create another with platformAdmin: true before revoking it');
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
    await this.requireLiveSandbox(actor);
    requireRole(actor, 'admin');
    if (!Number.isInteger(first) || first < 1 || first > 500) throw badInput('first must be from 1 to 500');
    return this.repository.listAudit(actor.sandbox, first, before);
  }

  /**
   * A key whose sandbox was deleted is refused here too, with a database read: the gateway may
   * hold its principal for a few seconds, and admin calls are rare enough to check every one.
   */
  private async requireLiveSandbox(actor: Principal): Promise<void> {
    if (await this.repository.isSandboxDeleted(actor.sandbox)) throw sandboxDeleted(actor.sandbox);
  }

  /** A platform admin sees every sandbox; any other key only its own. */
  private sees(actor: Principal, record: SandboxRecord): boolean {
    return actor.platformAdmin === true || record._id === actor.sandbox;
  }

  /** The sandbox, or NOT_FOUND alike for a missing, deleted or invisible one. */
  private async visibleSandbox(actor: Principal, rawName: string): Promise<SandboxRecord> {
    const name = parseSandboxName(rawName);
    const record = await this.repository.findSandbox(name);
    if (!record || !this.sees(actor, record)) throw notFound('Sandbox', name);
    return record;
  }

  private async issueKey(sandbox: string, role: Role, name: string, createdBy: string | null, platformAdmin = false): Promise<CreatedApiKey> {
    const generated = generateApiKey();
    const fresh = this.newKeyRecord(sandbox, role, name, createdBy, generated.hash, generated.key, this.now());
    const record = platformAdmin ? { ...fresh, platformAdmin } : fresh;
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
