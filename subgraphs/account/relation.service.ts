/**
 * Account-person links and the rule for a person's primary account. The person
 * is not looked up: the account subgraph never reads the profile subgraph's data.
 * Linking needs the editor role.
 */
import { requireRole } from '../../lib/auth/roles.js';
import { badInput, notFound } from '../../lib/errors.js';
import type { ServiceDeps } from '../../lib/subgraph/context.js';
import { assertBatchSize, processRecord, type RecordError, type UpsertStatus } from '../../lib/subgraph/recordResults.js';
import { optionalText } from '../../lib/subgraph/validation.js';
import type { AccountRecord, AccountsRepository } from './accounts.repository.js';
import type { RelationRecord, RelationsRepository, RelationWithAccount } from './relations.repository.js';

export interface AccountPersonLinkInput {
  personId: string;
  accountId: string;
  isPrimary?: boolean | null;
  jobRole?: string | null;
}

export interface AccountPersonLinkResult {
  index: number;
  status: UpsertStatus;
  relation: RelationRecord | null;
  error: RecordError | null;
}

const MAX_ID_LENGTH = 128;

/**
 * The person's primary account: the link marked primary (the most recently
 * updated one, should two ever be marked), else the only link; null otherwise.
 */
export function primaryAccount(links: readonly RelationWithAccount[]): AccountRecord | null {
  const live = links.filter((link) => link.account !== null);
  const primaries = live.filter((link) => link.isPrimary);
  if (primaries.length > 0) {
    const latest = primaries.reduce((a, b) => (b.updatedAt > a.updatedAt ? b : a));
    return latest.account;
  }
  return live.length === 1 ? live[0].account : null;
}

export class RelationService {
  constructor(
    private readonly relations: RelationsRepository,
    private readonly accounts: AccountsRepository,
    private readonly deps: ServiceDeps,
  ) {}

  async linkPeopleToAccounts(links: readonly AccountPersonLinkInput[]): Promise<AccountPersonLinkResult[]> {
    requireRole(this.deps.principal, 'editor');
    assertBatchSize(links, 'links');
    await this.relations.ensureIndexes();
    const results: AccountPersonLinkResult[] = [];
    for (const [index, link] of links.entries()) {
      const outcome = await processRecord(() => this.linkOne(link));
      results.push({ index, status: outcome.status, relation: outcome.record, error: outcome.error });
    }
    return results;
  }

  private async linkOne(link: AccountPersonLinkInput): Promise<{ status: 'CREATED' | 'UPDATED'; record: RelationRecord }> {
    const personId = link.personId.trim();
    if (personId === '' || personId.length > MAX_ID_LENGTH) {
      throw badInput(`personId must be a profile id of 1 to ${MAX_ID_LENGTH} characters`, { field: 'personId' });
    }
    const jobRole = optionalText(link.jobRole ?? undefined, 'jobRole', 200) ?? undefined;
    if (!(await this.accounts.exists(link.accountId))) throw notFound('Account', link.accountId);

    const now = this.deps.now();
    const { created, relation } = await this.relations.upsert(
      { accountId: link.accountId, personId, isPrimary: link.isPrimary ?? undefined, jobRole },
      this.deps.ids('rel'),
      now,
    );
    // Written after the link itself: if interrupted, a rerun finishes the job, and
    // meanwhile `primaryAccount` prefers the most recently updated primary link.
    if (relation.isPrimary) await this.relations.clearOtherPrimaries(personId, link.accountId, now);
    return { status: created ? 'CREATED' : 'UPDATED', record: relation };
  }
}

/** A person's links whose account still exists. */
export function liveLinks(links: readonly RelationWithAccount[]): RelationWithAccount[] {
  return links.filter((link) => link.account !== null);
}
