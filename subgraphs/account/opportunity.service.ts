/**
 * Opportunity rules: validation, matching by id then source key, the owning account by id or
 * source key (NOT_FOUND when it does not exist), per-record results. Planned in memory from two
 * reads, written with one bulkWrite. Writes need the editor role.
 */
import { requireRole } from '../../lib/auth/roles.js';
import { badInput, DomainError, ErrorCode } from '../../lib/errors.js';
import type { ServiceDeps } from '../../lib/subgraph/context.js';
import { assertBatchSize, planRecord, type RecordError, type RecordStatus } from '../../lib/subgraph/recordResults.js';
import type { JsonObject } from '../../lib/subgraph/scalars.js';
import { definedFields, optionalNumber, optionalText } from '../../lib/subgraph/validation.js';
import type { AccountRecord, AccountsRepository, SourcedWrite } from './accounts.repository.js';
import { collectReferences, KnownRecords, type Reference } from './knownRecords.js';
import type { OpportunitiesRepository, OpportunityFields, OpportunityRecord } from './opportunities.repository.js';
import { addToWrite, concurrentCreate, isOlderThanStored, mergeAttributes } from './recordRules.js';
import { oneReference, optionalId, optionalSourceKey } from './references.js';

export interface OpportunityInput {
  id?: string | null;
  sourceKey?: string | null;
  accountId?: string | null;
  accountSourceKey?: string | null;
  name?: string | null;
  stage?: string | null;
  amount?: number | null;
  currency?: string | null;
  closeDate?: Date | null;
  isClosed?: boolean | null;
  isWon?: boolean | null;
  attributes?: JsonObject | null;
  sourceUpdatedAt?: Date | null;
}

export interface OpportunityUpsertResult {
  index: number;
  status: RecordStatus;
  opportunity: OpportunityRecord | null;
  error: RecordError | null;
}

interface NormalizedOpportunity {
  id?: string;
  sourceKey?: string;
  account?: Reference;
  fields: OpportunityFields;
  attributes?: JsonObject;
  sourceUpdatedAt?: Date;
}

const CURRENCY = /^[A-Z]{3}$/;

export function normalizeOpportunity(input: OpportunityInput): NormalizedOpportunity {
  const text = (value: string | null | undefined, field: string) => optionalText(value ?? undefined, field) ?? undefined;
  const currency = input.currency == null ? undefined : input.currency.trim().toUpperCase();
  if (currency !== undefined && !CURRENCY.test(currency)) {
    throw badInput(`currency ${JSON.stringify(input.currency)} must be a three-letter ISO-4217 code such as USD`, { field: 'currency' });
  }
  return {
    id: optionalId(input.id, 'id'),
    sourceKey: optionalSourceKey(input.sourceKey, 'sourceKey'),
    account: oneReference({ value: input.accountId, field: 'accountId' }, { value: input.accountSourceKey, field: 'accountSourceKey' }, false),
    attributes: input.attributes ?? undefined,
    sourceUpdatedAt: input.sourceUpdatedAt ?? undefined,
    fields: definedFields<OpportunityFields>({
      name: text(input.name, 'name'),
      stage: text(input.stage, 'stage'),
      amount: optionalNumber(input.amount, 'amount', { min: 0 }) ?? undefined,
      currency,
      closeDate: input.closeDate ?? undefined,
      isClosed: input.isClosed ?? undefined,
      isWon: input.isWon ?? undefined,
    }),
  };
}

export class OpportunityService {
  constructor(
    private readonly opportunities: OpportunitiesRepository,
    private readonly accounts: AccountsRepository,
    private readonly deps: ServiceDeps,
  ) {}

  async upsertOpportunities(inputs: readonly OpportunityInput[]): Promise<OpportunityUpsertResult[]> {
    requireRole(this.deps.principal, 'editor');
    assertBatchSize(inputs, 'opportunities');
    await this.opportunities.ensureIndexes();

    const normalized = inputs.map((input) => planRecord(() => normalizeOpportunity(input)));
    const valid = normalized.flatMap((record) => ('ok' in record ? [record.ok] : []));
    const accountRefs = collectReferences(valid.map((record) => record.account));
    const opportunityRefs = collectReferences(
      valid.flatMap((record) => [record.id ? { id: record.id } : undefined, record.sourceKey ? { sourceKey: record.sourceKey } : undefined]),
    );
    const [accounts, opportunities] = await Promise.all([
      this.accounts.findByIdsOrSourceKeys(accountRefs.ids, accountRefs.sourceKeys),
      this.opportunities.findByIdsOrSourceKeys(opportunityRefs.ids, opportunityRefs.sourceKeys),
    ]);
    const knownAccounts = new KnownRecords('Account', accounts);
    const known = new KnownRecords('Opportunity', opportunities);

    const now = this.deps.now();
    const writes = new Map<string, SourcedWrite<OpportunityFields>>();
    const results: OpportunityUpsertResult[] = normalized.map((record, index) => {
      const planned = 'ok' in record ? planRecord(() => this.planOne(record.ok, known, knownAccounts, writes, now)) : record;
      return 'ok' in planned
        ? { index, status: planned.ok.status, opportunity: planned.ok.opportunity, error: null }
        : { index, status: 'REJECTED', opportunity: null, error: planned.error };
    });

    const batch = [...writes.values()];
    const { failed, superseded } = await this.opportunities.saveAll(batch);
    if (failed.size > 0) {
      const failedIds = new Set([...failed].map((i) => batch[i]!.id));
      for (const result of results) {
        if (result.opportunity && failedIds.has(result.opportunity.id)) {
          Object.assign(result, { status: 'REJECTED', opportunity: null, error: concurrentCreate('opportunity') });
        }
      }
    }
    if (superseded.size > 0) {
      // A newer version was stored meanwhile: answer with it, as for an older record seen at planning.
      const stored = new Map([...superseded].map(([i, record]) => [batch[i]!.id, record]));
      for (const result of results) {
        const newer = result.opportunity ? stored.get(result.opportunity.id) : undefined;
        if (newer) Object.assign(result, { status: 'UPDATED', opportunity: newer });
      }
    }
    return results;
  }

  /** Applies one record to the batch's view of the opportunities; throws a DomainError to reject it. */
  private planOne(
    record: NormalizedOpportunity,
    known: KnownRecords<OpportunityRecord>,
    knownAccounts: KnownRecords<AccountRecord>,
    writes: Map<string, SourcedWrite<OpportunityFields>>,
    now: Date,
  ): { status: 'CREATED' | 'UPDATED'; opportunity: OpportunityRecord } {
    let existing: OpportunityRecord | undefined;
    if (record.id) {
      existing = known.resolve({ id: record.id }, 'id');
      const owner = record.sourceKey ? known.bySourceKey(record.sourceKey) : undefined;
      if (owner && owner.id !== existing.id) {
        throw new DomainError(ErrorCode.Conflict, `sourceKey ${JSON.stringify(record.sourceKey)} belongs to opportunity ${JSON.stringify(owner.id)}`, {
          details: { field: 'sourceKey' },
        });
      }
    } else if (record.sourceKey) {
      existing = known.bySourceKey(record.sourceKey);
    }

    if (existing && isOlderThanStored(existing.sourceUpdatedAt, record.sourceUpdatedAt)) {
      // Older than the stored version (a replayed export): values stay; a new source key still joins.
      const addSourceKeys = record.sourceKey && !existing.sourceKeys.includes(record.sourceKey) ? [record.sourceKey] : [];
      const opportunity: OpportunityRecord = { ...existing, sourceKeys: [...existing.sourceKeys, ...addSourceKeys] };
      if (addSourceKeys.length > 0) {
        known.put(opportunity);
        addToWrite(writes, { id: existing.id, create: false, fields: {}, addSourceKeys, values: false, now });
      }
      return { status: 'UPDATED', opportunity };
    }

    const fields: OpportunityFields = { ...record.fields, sourceUpdatedAt: record.sourceUpdatedAt ?? now };
    if (record.account) {
      fields.accountId = knownAccounts.resolve(record.account, 'id' in record.account ? 'accountId' : 'accountSourceKey').id;
    }
    if (!existing) {
      if (!fields.accountId) throw badInput('accountId or accountSourceKey is required to create an opportunity', { field: 'accountId' });
      if (!fields.name) throw badInput('name is required to create an opportunity', { field: 'name' });
    }

    const id = existing?.id ?? this.deps.ids('opp');
    const sourceKeys = existing?.sourceKeys ?? [];
    const addSourceKeys = record.sourceKey && !sourceKeys.includes(record.sourceKey) ? [record.sourceKey] : [];
    const opportunity: OpportunityRecord = {
      ...(existing ?? { id, accountId: fields.accountId!, name: fields.name!, createdAt: now }),
      ...fields,
      attributes: mergeAttributes(existing?.attributes, record.attributes),
      sourceKeys: [...sourceKeys, ...addSourceKeys],
      updatedAt: now,
    };
    if (opportunity.attributes === undefined) delete opportunity.attributes;
    known.put(opportunity);

    addToWrite(writes, { id, create: !existing, fields, attributes: record.attributes, addSourceKeys, sourceUpdatedAt: record.sourceUpdatedAt, values: true, now });
    return { status: existing ? 'UPDATED' : 'CREATED', opportunity };
  }
}
