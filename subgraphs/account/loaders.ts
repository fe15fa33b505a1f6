/** Per-request loaders of the account subgraph; each batch is one MongoDB query, results in key order. */
import type DataLoader from 'dataloader';
import { createByIdLoader, createGroupLoader } from '../../lib/subgraph/loaders.js';
import { toAccountRecord, type AccountDocument, type AccountRecord, type AccountsRepository } from './accounts.repository.js';
import { toOpportunityRecord, type OpportunitiesRepository, type OpportunityDocument, type OpportunityRecord } from './opportunities.repository.js';
import type { PersonLink, PersonLinksRepository, PersonLinkWithTarget } from './personLinks.repository.js';

export interface AccountLoaders {
  accountById: DataLoader<string, AccountRecord | null>;
  opportunityById: DataLoader<string, OpportunityRecord | null>;
  /** The first `limit` of each key's group: one loader per limit, so one query per batch. */
  opportunitiesByAccountId: LimitedGroupLoaders<OpportunityRecord>;
  relationsByAccountId: LimitedGroupLoaders<PersonLink>;
  contactsByOpportunityId: LimitedGroupLoaders<PersonLink>;
  /** Account links of a person key with their accounts joined: one aggregate per batch of keys. */
  accountLinksByPersonKey: DataLoader<string, PersonLinkWithTarget<AccountRecord>[]>;
  /** Opportunity contacts of a person key with their opportunities joined: one aggregate per batch. */
  opportunityLinksByPersonKey: DataLoader<string, PersonLinkWithTarget<OpportunityRecord>[]>;
}

export type LimitedGroupLoaders<T> = (limit: number) => DataLoader<string, T[]>;

/** Group loaders made on first use for each limit a request asks for. */
function limitedGroupLoaders<T>(fetch: (keys: readonly string[], limit: number) => Promise<readonly T[]>, keyOf: (item: T) => string): LimitedGroupLoaders<T> {
  const byLimit = new Map<number, DataLoader<string, T[]>>();
  return (limit) => {
    let loader = byLimit.get(limit);
    if (!loader) byLimit.set(limit, (loader = createGroupLoader((keys) => fetch(keys, limit), keyOf)));
    return loader;
  };
}

export function createAccountLoaders(repositories: {
  accounts: AccountsRepository;
  opportunities: OpportunitiesRepository;
  accountLinks: PersonLinksRepository;
  opportunityContacts: PersonLinksRepository;
}): AccountLoaders {
  const { accounts, opportunities, accountLinks, opportunityContacts } = repositories;
  return {
    accountById: createByIdLoader((ids) => accounts.findByIds(ids), (account) => account.id),
    opportunityById: createByIdLoader((ids) => opportunities.findByIds(ids), (opportunity) => opportunity.id),
    opportunitiesByAccountId: limitedGroupLoaders((ids, limit) => opportunities.findByAccountIds(ids, limit), (opportunity) => opportunity.accountId),
    relationsByAccountId: limitedGroupLoaders((ids, limit) => accountLinks.findByTargetIds(ids, limit), (link) => link.targetId),
    contactsByOpportunityId: limitedGroupLoaders((ids, limit) => opportunityContacts.findByTargetIds(ids, limit), (link) => link.targetId),
    accountLinksByPersonKey: createGroupLoader(
      (keys) => accountLinks.findByPersonKeysWithTargets(keys, (doc) => toAccountRecord(doc as AccountDocument)),
      (link) => link.personKey,
    ),
    opportunityLinksByPersonKey: createGroupLoader(
      (keys) => opportunityContacts.findByPersonKeysWithTargets(keys, (doc) => toOpportunityRecord(doc as OpportunityDocument)),
      (link) => link.personKey,
    ),
  };
}

/** Every key's group, flattened; a failed batch fails the field. */
export async function loadAll<T>(loader: DataLoader<string, T[]>, keys: readonly string[]): Promise<T[]> {
  const groups = await loader.loadMany(keys);
  return groups.flatMap((group) => {
    if (group instanceof Error) throw group;
    return group;
  });
}
