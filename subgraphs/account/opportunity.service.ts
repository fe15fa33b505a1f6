/**
 * Opportunity rules: validation and the owning account by id or source key (NOT_FOUND when it
 * does not exist). Upserts go through the one sourced upsert (`sourcedUpsert.ts`): planned from
 * two reads, written with one bulkWrite. Writes need the editor role.
 */
import { requireRole } from '../../lib/auth/roles.js';
import { badInput } from '../../lib/errors.js';
import type { ServiceDeps } from '../../lib/subgraph/context.js';
import { assertBatchSize, type RecordError, type RecordStatus } from '../../lib/subgraph/recordResults.js';
import type { JsonObject } from '../../lib/subgraph/scalars.js';
import { definedFields, optionalNumber, optionalText } from '../../lib/subgraph/validation.js';
import type { AccountRecord, AccountsRepository } from './accounts.repository.js';
import { collectReferences, KnownRecords, type Reference } from './knownRecords.js';
import type { OpportunitiesRepository, OpportunityFields, OpportunityRecord } from './opportunities.repository.js';
import { oneReference, optionalId, optionalSourceKey } from './references.js';
import { upsertSourced, type NormalizedSourced, type SourcedKind } from './sourcedUpsert.js';

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

interface NormalizedOpportunity extends NormalizedSourced<OpportunityFields> {
  account?: Reference;
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
    const results = await upsertSourced(opportunitiesOf(this.accounts), this.opportunities, inputs, { now: this.deps.now(), newId: this.deps.ids });
    return results.map(({ record, ...result }) => ({ ...result, opportunity: record }));
  }
}

/** Opportunities as sourced records: an account named by id or source key, and a name, to be created. */
function opportunitiesOf(
  accounts: AccountsRepository,
): SourcedKind<OpportunityInput, OpportunityFields, OpportunityRecord, NormalizedOpportunity, KnownRecords<AccountRecord>> {
  return {
    typeName: 'Opportunity',
    noun: 'opportunity',
    idPrefix: 'opp',
    normalize: normalizeOpportunity,
    async loadContext(records) {
      const { ids, sourceKeys } = collectReferences(records.map((record) => record.account));
      return new KnownRecords('Account', await accounts.findByIdsOrSourceKeys(ids, sourceKeys));
    },
    complete(record, fields, existing, _known, knownAccounts) {
      if (record.account) {
        fields.accountId = knownAccounts.resolve(record.account, 'id' in record.account ? 'accountId' : 'accountSourceKey').id;
      }
      if (existing) {
        if (fields.accountId && fields.accountId !== existing.accountId) fields.previousAccountId = existing.accountId;
        return;
      }
      if (!fields.accountId) throw badInput('accountId or accountSourceKey is required to create an opportunity', { field: 'accountId' });
      if (!fields.name) throw badInput('name is required to create an opportunity', { field: 'name' });
    },
    required: (_id, fields) => ({ accountId: fields.accountId!, name: fields.name! }),
  };
}
