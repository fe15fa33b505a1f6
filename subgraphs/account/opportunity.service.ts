/** Opportunity rules: validation, the owning account must exist, per-record upsert results. Writes need the editor role. */
import { requireRole } from '../../lib/auth/roles.js';
import { badInput, notFound } from '../../lib/errors.js';
import type { ServiceDeps } from '../../lib/subgraph/context.js';
import { assertBatchSize, processRecord, type RecordError, type UpsertStatus } from '../../lib/subgraph/recordResults.js';
import { definedFields, optionalNumber, optionalText } from '../../lib/subgraph/validation.js';
import type { AccountsRepository } from './accounts.repository.js';
import type { OpportunitiesRepository, OpportunityFields, OpportunityRecord } from './opportunities.repository.js';

export interface OpportunityInput {
  id?: string | null;
  accountId?: string | null;
  name?: string | null;
  stage?: string | null;
  amount?: number | null;
  currency?: string | null;
  closeDate?: Date | null;
  isClosed?: boolean | null;
  isWon?: boolean | null;
}

export interface OpportunityUpsertResult {
  index: number;
  status: UpsertStatus;
  opportunity: OpportunityRecord | null;
  error: RecordError | null;
}

const CURRENCY = /^[A-Z]{3}$/;

export function normalizeOpportunity(input: OpportunityInput): OpportunityFields {
  const text = (value: string | null | undefined, field: string) => optionalText(value ?? undefined, field) ?? undefined;
  const currency = input.currency == null ? undefined : input.currency.trim().toUpperCase();
  if (currency !== undefined && !CURRENCY.test(currency)) {
    throw badInput(`currency ${JSON.stringify(input.currency)} must be a three-letter ISO-4217 code such as USD`, { field: 'currency' });
  }
  return definedFields<OpportunityFields>({
    accountId: input.accountId ?? undefined,
    name: text(input.name, 'name'),
    stage: text(input.stage, 'stage'),
    amount: optionalNumber(input.amount, 'amount', { min: 0 }) ?? undefined,
    currency,
    closeDate: input.closeDate ?? undefined,
    isClosed: input.isClosed ?? undefined,
    isWon: input.isWon ?? undefined,
  });
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
    const results: OpportunityUpsertResult[] = [];
    for (const [index, input] of inputs.entries()) {
      const outcome = await processRecord(() => this.upsertOne(input));
      results.push({ index, status: outcome.status, opportunity: outcome.record, error: outcome.error });
    }
    return results;
  }

  private async upsertOne(input: OpportunityInput): Promise<{ status: 'CREATED' | 'UPDATED'; record: OpportunityRecord }> {
    const fields = normalizeOpportunity(input);
    if (fields.accountId !== undefined && !(await this.accounts.exists(fields.accountId))) {
      throw notFound('Account', fields.accountId);
    }
    const now = this.deps.now();
    if (input.id) {
      const updated = await this.opportunities.update(input.id, fields, now);
      if (!updated) throw notFound('Opportunity', input.id);
      return { status: 'UPDATED', record: updated };
    }
    if (!fields.accountId) throw badInput('accountId is required to create an opportunity', { field: 'accountId' });
    if (!fields.name) throw badInput('name is required to create an opportunity', { field: 'name' });
    const created = await this.opportunities.insert({
      ...fields,
      id: this.deps.ids('opp'),
      accountId: fields.accountId,
      name: fields.name,
      createdAt: now,
      updatedAt: now,
    });
    return { status: 'CREATED', record: created };
  }
}
