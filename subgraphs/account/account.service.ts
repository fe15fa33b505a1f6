/**
 * Account rules: validation, matching by id then source key, parent references, per-record
 * results. A batch is planned in memory from one read, then written with one bulkWrite,
 * so a 1000-record import batch costs two round trips. Writes need the editor role.
 */
import { requireRole } from '../../lib/auth/roles.js';
import { badInput, DomainError, ErrorCode } from '../../lib/errors.js';
import type { ServiceDeps } from '../../lib/subgraph/context.js';
import { parsePageArgs, type PageArgs } from '../../lib/subgraph/pagination.js';
import { assertBatchSize, planRecord, type RecordError, type RecordStatus } from '../../lib/subgraph/recordResults.js';
import type { JsonObject } from '../../lib/subgraph/scalars.js';
import { definedFields, optionalNumber, optionalText } from '../../lib/subgraph/validation.js';
import type { AccountFields, AccountRecord, AccountsRepository, AccountWrite } from './accounts.repository.js';
import { toConnection, type Connection } from '../../lib/subgraph/connection.js';
import { collectReferences, KnownRecords, type Reference } from './knownRecords.js';
import { addToWrite, concurrentCreate, isOlderThanStored, mergeAttributes } from './recordRules.js';
import { oneReference, optionalId, optionalSourceKey } from './references.js';

export interface AccountInput {
  id?: string | null;
  sourceKey?: string | null;
  name?: string | null;
  domain?: string | null;
  industry?: string | null;
  annualRevenue?: number | null;
  employees?: number | null;
  country?: string | null;
  type?: string | null;
  parentAccountId?: string | null;
  parentSourceKey?: string | null;
  attributes?: JsonObject | null;
  sourceUpdatedAt?: Date | null;
}

export interface AccountUpsertResult {
  index: number;
  status: RecordStatus;
  account: AccountRecord | null;
  error: RecordError | null;
}

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/** `https://www.Example.com/about` -> `example.com`. */
export function normalizeDomain(raw: string): string {
  let host = raw.trim().toLowerCase();
  host = host.replace(/^[a-z][a-z0-9+.-]*:\/\//, '').split(/[/?#]/)[0] ?? '';
  host = host.replace(/:\d+$/, '').replace(/^www\./, '').replace(/\.$/, '');
  if (!HOSTNAME.test(host)) {
    throw badInput(`domain ${JSON.stringify(raw)} is not a valid domain; use a host name such as example.com`, { field: 'domain' });
  }
  return host;
}

interface NormalizedAccount {
  id?: string;
  sourceKey?: string;
  parent?: Reference;
  fields: AccountFields;
  attributes?: JsonObject;
  sourceUpdatedAt?: Date;
}

export function normalizeAccount(input: AccountInput): NormalizedAccount {
  // null means "keep the current value", the same as leaving the field out.
  const text = (value: string | null | undefined, field: string) => optionalText(value ?? undefined, field) ?? undefined;
  return {
    id: optionalId(input.id, 'id'),
    sourceKey: optionalSourceKey(input.sourceKey, 'sourceKey'),
    parent: oneReference({ value: input.parentAccountId, field: 'parentAccountId' }, { value: input.parentSourceKey, field: 'parentSourceKey' }, false),
    attributes: input.attributes ?? undefined,
    sourceUpdatedAt: input.sourceUpdatedAt ?? undefined,
    fields: definedFields<AccountFields>({
      name: text(input.name, 'name'),
      domain: input.domain == null || input.domain.trim() === '' ? undefined : normalizeDomain(input.domain),
      industry: text(input.industry, 'industry'),
      annualRevenue: optionalNumber(input.annualRevenue, 'annualRevenue', { min: 0 }) ?? undefined,
      employees: optionalNumber(input.employees, 'employees', { min: 0, integer: true }) ?? undefined,
      country: text(input.country, 'country'),
      type: text(input.type, 'type'),
    }),
  };
}

function referencesOf(record: NormalizedAccount): (Reference | undefined)[] {
  return [
    record.id ? { id: record.id } : undefined,
    record.sourceKey ? { sourceKey: record.sourceKey } : undefined,
    record.parent,
  ];
}

export class AccountService {
  constructor(
    private readonly accounts: AccountsRepository,
    private readonly deps: ServiceDeps,
  ) {}

  async list(args: PageArgs): Promise<Connection<AccountRecord>> {
    const page = parsePageArgs(args);
    const rows = await this.accounts.list({ ...page, limit: page.limit + 1 });
    return toConnection(rows, page.limit, (row) => row.id);
  }

  async bySourceKey(sourceKey: string): Promise<AccountRecord | null> {
    const key = optionalSourceKey(sourceKey, 'sourceKey');
    return key === undefined ? null : this.accounts.findBySourceKey(key);
  }

  async upsertAccounts(inputs: readonly AccountInput[]): Promise<AccountUpsertResult[]> {
    requireRole(this.deps.principal, 'editor');
    assertBatchSize(inputs, 'accounts');
    await this.accounts.ensureIndexes();

    const normalized = inputs.map((input) => planRecord(() => normalizeAccount(input)));
    const { ids, sourceKeys } = collectReferences(
      normalized.flatMap((record) => ('ok' in record ? referencesOf(record.ok) : [])),
    );
    const known = new KnownRecords('Account', await this.accounts.findByIdsOrSourceKeys(ids, sourceKeys));

    const now = this.deps.now();
    const writes = new Map<string, AccountWrite>();
    const results: AccountUpsertResult[] = normalized.map((record, index) => {
      const planned = 'ok' in record ? planRecord(() => this.planOne(record.ok, known, writes, now)) : record;
      return 'ok' in planned
        ? { index, status: planned.ok.status, account: planned.ok.account, error: null }
        : { index, status: 'REJECTED', account: null, error: planned.error };
    });

    const batch = [...writes.values()];
    const { failed, superseded } = await this.accounts.saveAll(batch);
    if (failed.size > 0) {
      const failedIds = new Set([...failed].map((i) => batch[i]!.id));
      for (const result of results) {
        if (result.account && failedIds.has(result.account.id)) {
          Object.assign(result, { status: 'REJECTED', account: null, error: concurrentCreate('account') });
        }
      }
    }
    if (superseded.size > 0) {
      // A newer version was stored meanwhile: answer with it, as for an older record seen at planning.
      const stored = new Map([...superseded].map(([i, record]) => [batch[i]!.id, record]));
      for (const result of results) {
        const newer = result.account ? stored.get(result.account.id) : undefined;
        if (newer) Object.assign(result, { status: 'UPDATED', account: newer });
      }
    }
    return results;
  }

  /** Applies one record to the batch's view of the accounts; throws a DomainError to reject it. */
  private planOne(
    record: NormalizedAccount,
    known: KnownRecords<AccountRecord>,
    writes: Map<string, AccountWrite>,
    now: Date,
  ): { status: 'CREATED' | 'UPDATED'; account: AccountRecord } {
    let existing: AccountRecord | undefined;
    if (record.id) {
      existing = known.resolve({ id: record.id }, 'id');
      const owner = record.sourceKey ? known.bySourceKey(record.sourceKey) : undefined;
      if (owner && owner.id !== existing.id) {
        throw new DomainError(ErrorCode.Conflict, `sourceKey ${JSON.stringify(record.sourceKey)} belongs to account ${JSON.stringify(owner.id)}`, {
          details: { field: 'sourceKey' },
        });
      }
    } else if (record.sourceKey) {
      existing = known.bySourceKey(record.sourceKey);
    }

    if (existing && isOlderThanStored(existing.sourceUpdatedAt, record.sourceUpdatedAt)) {
      // Older than the stored version (a replayed export): values stay; a new source key still joins.
      const addSourceKeys = record.sourceKey && !existing.sourceKeys.includes(record.sourceKey) ? [record.sourceKey] : [];
      const account: AccountRecord = { ...existing, sourceKeys: [...existing.sourceKeys, ...addSourceKeys] };
      if (addSourceKeys.length > 0) {
        known.put(account);
        addToWrite(writes, { id: existing.id, create: false, fields: {}, addSourceKeys, values: false, now });
      }
      return { status: 'UPDATED', account };
    }

    const fields: AccountFields = { ...record.fields, sourceUpdatedAt: record.sourceUpdatedAt ?? now };
    if (record.parent) {
      const parent = known.resolve(record.parent, 'id' in record.parent ? 'parentAccountId' : 'parentSourceKey');
      if (existing && parent.id === existing.id) throw badInput('An account cannot be its own parent', { field: 'parentAccountId' });
      fields.parentId = parent.id;
    }
    if (!existing && !fields.name) throw badInput('name is required to create an account', { field: 'name' });

    const id = existing?.id ?? this.deps.ids('acc');
    const sourceKeys = existing?.sourceKeys ?? [];
    const addSourceKeys = record.sourceKey && !sourceKeys.includes(record.sourceKey) ? [record.sourceKey] : [];
    const account: AccountRecord = {
      ...(existing ?? { id, name: fields.name!, createdAt: now }),
      ...fields,
      attributes: mergeAttributes(existing?.attributes, record.attributes),
      sourceKeys: [...sourceKeys, ...addSourceKeys],
      updatedAt: now,
    };
    if (account.attributes === undefined) delete account.attributes;
    known.put(account);

    addToWrite(writes, { id, create: !existing, fields, attributes: record.attributes, addSourceKeys, sourceUpdatedAt: record.sourceUpdatedAt, values: true, now });
    return { status: existing ? 'UPDATED' : 'CREATED', account };
  }
}
