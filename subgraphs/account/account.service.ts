/**
 * Account rules: validation, domains, parent references. Upserts go through the one sourced
 * upsert (`sourcedUpsert.ts`): a batch is planned from one read and written with one bulkWrite,
 * so a 1000-record import batch costs two round trips. Writes need the editor role.
 */
import { requireRole } from '../../lib/auth/roles.js';
import { badInput } from '../../lib/errors.js';
import type { ServiceDeps } from '../../lib/subgraph/context.js';
import { parsePageArgs, type PageArgs } from '../../lib/subgraph/pagination.js';
import { assertBatchSize, type RecordError, type RecordStatus } from '../../lib/subgraph/recordResults.js';
import type { JsonObject } from '../../lib/subgraph/scalars.js';
import { definedFields, optionalNumber, optionalText } from '../../lib/subgraph/validation.js';
import type { AccountFields, AccountRecord, AccountsRepository } from './accounts.repository.js';
import { toConnection, type Connection } from '../../lib/subgraph/connection.js';
import type { Reference } from './knownRecords.js';
import { oneReference, optionalId, optionalSourceKey } from './references.js';
import { upsertSourced, type NormalizedSourced, type SourcedKind } from './sourcedUpsert.js';

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

interface NormalizedAccount extends NormalizedSourced<AccountFields> {
  parent?: Reference;
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
    const results = await upsertSourced(ACCOUNTS, this.accounts, inputs, { now: this.deps.now(), newId: this.deps.ids });
    return results.map(({ record, ...result }) => ({ ...result, account: record }));
  }
}

/** Accounts as sourced records: a parent named by id or source key, and a name to be created. */
const ACCOUNTS: SourcedKind<AccountInput, AccountFields, AccountRecord, NormalizedAccount, null> = {
  typeName: 'Account',
  noun: 'account',
  idPrefix: 'acc',
  normalize: normalizeAccount,
  extraReferences: (record) => [record.parent],
  loadContext: async () => null,
  complete(record, fields, existing, known) {
    if (record.parent) {
      const parent = known.resolve(record.parent, 'id' in record.parent ? 'parentAccountId' : 'parentSourceKey');
      if (existing && parent.id === existing.id) throw badInput('An account cannot be its own parent', { field: 'parentAccountId' });
      fields.parentId = parent.id;
    }
    if (!existing && !fields.name) throw badInput('name is required to create an account', { field: 'name' });
  },
  required: (_id, fields) => ({ name: fields.name! }),
};
