/**
 * Source rules: names, non-secret config per type, write-only credentials
 * (encrypted at rest, lib/crypto/credentialsVault.ts), the sync schedule. Any role reads
 * sources and their runs; creating, changing, deleting, testing and syncing a
 * source needs the admin role, as destinations do.
 */
import { requireRole } from '../../../lib/auth/roles.js';
import { lookupWithin, refusedDestination, systemLookup, UNCONFIGURED_ADDRESS_POLICY } from '../../../lib/connectors/addressPolicy.js';
import { asConnectorFailure } from '../../../lib/connectors/failures.js';
import { SOURCE_ADDRESS_REFUSED } from '../../../lib/connectors/guardedFetch.js';
import { badInput, DomainError, ErrorCode, notFound } from '../../../lib/errors.js';
import type { ServiceDeps } from '../../../lib/subgraph/context.js';
import { parseJsonObject, type JsonObject } from '../../../lib/subgraph/scalars.js';
import { requiredText } from '../../../lib/subgraph/validation.js';
import type { SourceConnectorDeps } from './connectors/sourceConnector.js';
import { createSourceConnector } from './createSourceConnector.js';
import { openSourceConnector } from './openSourceConnector.js';
import type { CredentialsVault } from '../../../lib/crypto/credentialsVault.js';
import type { SourceRunsRepository, SyncRunRecord } from './sourceRuns.repository.js';
import type { SourceChanges, SourceRecord, SourcesRepository, SourceType, SyncMode } from './sources.repository.js';
import type { SourceSyncScheduling } from './sourceSyncScheduler.js';

export const SOURCE_TYPES: readonly SourceType[] = ['MARKETO', 'SALESFORCE'];
export const DEFAULT_SYNC_INTERVAL_SECONDS = 60;
const MIN_SYNC_INTERVAL_SECONDS = 10;
const MAX_SYNC_INTERVAL_SECONDS = 7 * 86_400;
const MAX_NAME_LENGTH = 200;
const MAX_SOURCES_LISTED = 500;
/** How long a stored URL's host may take to resolve; past it the check is left to sync time. */
const STORE_LOOKUP_TIMEOUT_MS = 2_000;

/** Config keys each type needs (the connector checks their values when it is made). */
const REQUIRED_CONFIG: Readonly<Record<SourceType, readonly string[]>> = {
  MARKETO: ['restUrl', 'identityUrl', 'instanceId'],
  SALESFORCE: ['instanceUrl', 'loginUrl', 'orgId'],
};
const SECRET_KEY = /(password|passwd|secret|token|api_?key|private_?key|access_?key|authori[sz]ation|credential|cookie)/i;
const LOCATION_KEY = /(url|uri|endpoint)$/i;

export interface CreateSourceInput {
  type: SourceType;
  name: string;
  config: JsonObject;
  credentials?: JsonObject | null;
  syncIntervalSeconds?: number | null;
}

export interface UpdateSourceInput {
  name?: string | null;
  config?: JsonObject | null;
  credentials?: JsonObject | null;
  syncIntervalSeconds?: number | null;
}

export interface SourceServiceDeps extends ServiceDeps {
  credentials: CredentialsVault;
  encryptionKey: string;
  connectorDeps: SourceConnectorDeps;
  scheduling: SourceSyncScheduling;
}

export class SourcesService {
  constructor(
    private readonly sources: SourcesRepository,
    private readonly runs: SourceRunsRepository,
    private readonly deps: SourceServiceDeps,
  ) {}

  get(id: string): Promise<SourceRecord | null> {
    return this.sources.findById(id);
  }

  list(type?: SourceType | null): Promise<SourceRecord[]> {
    return this.sources.list(MAX_SOURCES_LISTED, type ?? undefined);
  }

  runsOf(sourceId: string, first?: number | null): Promise<SyncRunRecord[]> {
    return this.runs.listForSource(sourceId, Math.max(1, Math.min(first ?? 20, 100)));
  }

  run(id: string): Promise<SyncRunRecord | null> {
    return this.runs.findById(id);
  }

  async create(input: CreateSourceInput): Promise<SourceRecord> {
    requireRole(this.deps.principal, 'admin');
    const type = sourceType(input.type);
    const name = requiredText(input.name, 'name', MAX_NAME_LENGTH);
    const config = await this.validConfig(type, input.config);
    const syncIntervalSeconds = interval(input.syncIntervalSeconds ?? DEFAULT_SYNC_INTERVAL_SECONDS);
    const credentials = input.credentials ? this.deps.credentials.seal(parseJsonObject(input.credentials)) : null;
    const now = this.deps.now();
    const source = await this.sources.insert(
      {
        id: this.deps.ids('src'),
        type,
        name,
        config,
        syncIntervalSeconds,
        credentialsUpdatedAt: credentials ? now : null,
        cursor: null,
        lastRunId: null,
        lastSyncedAt: null,
        failure: null,
        consecutiveFailures: 0,
        nextAttemptAt: null,
        createdAt: now,
        updatedAt: now,
      },
      credentials,
    );
    await this.deps.scheduling.schedule(this.deps.principal.sandbox, source.id, syncIntervalSeconds);
    return source;
  }

  async update(id: string, input: UpdateSourceInput): Promise<SourceRecord> {
    requireRole(this.deps.principal, 'admin');
    const current = await this.sources.findById(id);
    if (!current) throw notFound('Source', id);
    const changes: SourceChanges = {};
    if (input.name != null) changes.name = requiredText(input.name, 'name', MAX_NAME_LENGTH);
    if (input.config != null) changes.config = await this.validConfig(current.type, input.config);
    if (input.syncIntervalSeconds != null) changes.syncIntervalSeconds = interval(input.syncIntervalSeconds);
    if (input.credentials !== undefined) {
      changes.credentials = input.credentials === null ? null : this.deps.credentials.seal(parseJsonObject(input.credentials));
    }
    const updated = await this.sources.update(id, changes, this.deps.now());
    if (!updated) throw notFound('Source', id);
    if (changes.syncIntervalSeconds !== undefined) await this.deps.scheduling.schedule(this.deps.principal.sandbox, id, updated.syncIntervalSeconds);
    return updated;
  }

  async delete(id: string): Promise<string> {
    requireRole(this.deps.principal, 'admin');
    if (!(await this.sources.delete(id))) throw notFound('Source', id);
    await this.deps.scheduling.cancel(this.deps.principal.sandbox, id);
    return id;
  }

  /** Authenticates with the stored credentials; the source's refusal is an answer (`ok: false`), not an error. */
  async test(id: string): Promise<{ ok: boolean; code: string | null; message: string | null }> {
    requireRole(this.deps.principal, 'admin');
    const source = await this.sources.findById(id);
    if (!source) throw notFound('Source', id);
    try {
      const connector = await openSourceConnector(source, this.sources, this.deps.encryptionKey, this.deps.connectorDeps);
      await connector.testConnection();
      return { ok: true, code: null, message: null };
    } catch (error) {
      const failure = asConnectorFailure(error);
      return { ok: false, code: failure.code, message: failure.message };
    }
  }

  /** Queues a sync now (the worker runs it); the source's `lastRun` follows it. */
  async sync(id: string, mode: SyncMode): Promise<SourceRecord> {
    requireRole(this.deps.principal, 'admin');
    if (mode !== 'FULL' && mode !== 'INCREMENTAL') throw badInput('mode must be INCREMENTAL or FULL', { field: 'mode' });
    const source = await this.sources.findById(id);
    if (!source) throw notFound('Source', id);
    await this.deps.scheduling.runNow(this.deps.principal.sandbox, id, mode);
    return source;
  }

  /**
   * Config as stored: no secrets in it, the type's keys present, a connector can be
   * made from it, and no URL in it points where the address policy forbids.
   */
  private async validConfig(type: SourceType, raw: JsonObject | null | undefined): Promise<JsonObject> {
    const config = parseJsonObject(raw ?? {});
    for (const key of Object.keys(config)) {
      if (SECRET_KEY.test(key) && !LOCATION_KEY.test(key)) {
        throw badInput(`config.${key} looks like a secret; send secrets in credentials, which are stored but never returned`, { field: 'config' });
      }
    }
    const missing = REQUIRED_CONFIG[type].filter((key) => config[key] === undefined || config[key] === '');
    if (missing.length > 0) throw badInput(`A ${type} source needs config.${missing.join(', config.')}`, { field: 'config', missing });
    try {
      // Dummy credentials: only the config's shape is checked here.
      createSourceConnector({ type, config, credentials: { clientId: 'check', clientSecret: 'check' } }, this.deps.connectorDeps);
    } catch (error) {
      throw badInput(asConnectorFailure(error).message, { field: 'config' });
    }
    await this.refuseForbiddenAddresses(config);
    return config;
  }

  /** SOURCE_ADDRESS_REFUSED (BAD_USER_INPUT) naming the field whose URL, or an address its host resolves to, is refused. */
  private async refuseForbiddenAddresses(config: JsonObject): Promise<void> {
    const { addressPolicy = UNCONFIGURED_ADDRESS_POLICY, lookup = systemLookup } = this.deps.connectorDeps;
    const bounded = lookupWithin(lookup, STORE_LOOKUP_TIMEOUT_MS);
    for (const [key, value] of Object.entries(config)) {
      if (typeof value !== 'string' || !/^https?:\/\//i.test(value) || !URL.canParse(value)) continue;
      const why = await refusedDestination(new URL(value), addressPolicy, bounded);
      if (why) {
        throw new DomainError(ErrorCode.BadUserInput, `config.${key} must not point at ${why}`, {
          details: { field: `config.${key}` },
          extensions: { reason: SOURCE_ADDRESS_REFUSED },
        });
      }
    }
  }
}

function sourceType(value: string): SourceType {
  if (!SOURCE_TYPES.includes(value as SourceType)) throw badInput(`type must be one of ${SOURCE_TYPES.join(', ')}`, { field: 'type' });
  return value as SourceType;
}

function interval(seconds: number): number {
  if (!Number.isInteger(seconds) || seconds < MIN_SYNC_INTERVAL_SECONDS || seconds > MAX_SYNC_INTERVAL_SECONDS) {
    throw badInput(`syncIntervalSeconds must be a whole number from ${MIN_SYNC_INTERVAL_SECONDS} to ${MAX_SYNC_INTERVAL_SECONDS}`, { field: 'syncIntervalSeconds' });
  }
  return seconds;
}
