/** Account rules: validation, matching by id or domain, per-record upsert results. Writes need the editor role. */
import { requireRole } from '../../lib/auth/roles.js';
import { badInput, DomainError, ErrorCode, notFound } from '../../lib/errors.js';
import type { ServiceDeps } from '../../lib/subgraph/context.js';
import { parsePageArgs, type PageArgs } from '../../lib/subgraph/pagination.js';
import { assertBatchSize, processRecord, type RecordError, type UpsertStatus } from '../../lib/subgraph/recordResults.js';
import { definedFields, optionalNumber, optionalText } from '../../lib/subgraph/validation.js';
import { DomainTakenError, type AccountFields, type AccountRecord, type AccountsRepository } from './accounts.repository.js';

export interface AccountInput {
  id?: string | null;
  name?: string | null;
  domain?: string | null;
  industry?: string | null;
  annualRevenue?: number | null;
  employees?: number | null;
  country?: string | null;
  type?: string | null;
}

export interface AccountUpsertResult {
  index: number;
  status: UpsertStatus;
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

export function normalizeAccount(input: AccountInput): AccountFields {
  // null means "keep the current value", the same as leaving the field out.
  const text = (value: string | null | undefined, field: string) => optionalText(value ?? undefined, field) ?? undefined;
  return definedFields<AccountFields>({
    name: text(input.name, 'name'),
    domain: input.domain == null || input.domain.trim() === '' ? undefined : normalizeDomain(input.domain),
    industry: text(input.industry, 'industry'),
    annualRevenue: optionalNumber(input.annualRevenue, 'annualRevenue', { min: 0 }) ?? undefined,
    employees: optionalNumber(input.employees, 'employees', { min: 0, integer: true }) ?? undefined,
    country: text(input.country, 'country'),
    type: text(input.type, 'type'),
  });
}

function domainTaken(domain: string | undefined): DomainError {
  return new DomainError(ErrorCode.Conflict, `Another account already has the domain ${JSON.stringify(domain)}; update that account instead`, {
    details: { field: 'domain' },
  });
}

export class AccountService {
  constructor(
    private readonly accounts: AccountsRepository,
    private readonly deps: ServiceDeps,
  ) {}

  list(args: PageArgs): Promise<AccountRecord[]> {
    return this.accounts.list(parsePageArgs(args));
  }

  async upsertAccounts(inputs: readonly AccountInput[]): Promise<AccountUpsertResult[]> {
    requireRole(this.deps.principal, 'editor');
    assertBatchSize(inputs, 'accounts');
    await this.accounts.ensureIndexes();
    const results: AccountUpsertResult[] = [];
    for (const [index, input] of inputs.entries()) {
      const outcome = await processRecord(() => this.upsertOne(input));
      results.push({ index, status: outcome.status, account: outcome.record, error: outcome.error });
    }
    return results;
  }

  private async upsertOne(input: AccountInput): Promise<{ status: 'CREATED' | 'UPDATED'; record: AccountRecord }> {
    const fields = normalizeAccount(input);
    const now = this.deps.now();
    try {
      if (input.id) {
        const updated = await this.accounts.update(input.id, fields, now);
        if (!updated) throw notFound('Account', input.id);
        return { status: 'UPDATED', record: updated };
      }
      const existing = fields.domain ? await this.accounts.findByDomain(fields.domain) : null;
      if (existing) {
        const updated = await this.accounts.update(existing.id, fields, now);
        if (updated) return { status: 'UPDATED', record: updated };
      }
      if (!fields.name) throw badInput('name is required to create an account', { field: 'name' });
      const created = await this.accounts.insert({ ...fields, id: this.deps.ids('acc'), name: fields.name, createdAt: now, updatedAt: now });
      return { status: 'CREATED', record: created };
    } catch (error) {
      if (error instanceof DomainTakenError) throw domainTaken(fields.domain);
      throw error;
    }
  }
}
