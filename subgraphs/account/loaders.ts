/** Per-request loaders of the account subgraph; each batch is one MongoDB query. */
import type DataLoader from 'dataloader';
import { createByIdLoader, createGroupLoader } from '../../lib/subgraph/loaders.js';
import type { AccountRecord, AccountsRepository } from './accounts.repository.js';
import type { OpportunitiesRepository, OpportunityRecord } from './opportunities.repository.js';
import type { RelationRecord, RelationsRepository, RelationWithAccount } from './relations.repository.js';

export interface AccountLoaders {
  accountById: DataLoader<string, AccountRecord | null>;
  opportunityById: DataLoader<string, OpportunityRecord | null>;
  opportunitiesByAccountId: DataLoader<string, OpportunityRecord[]>;
  relationsByAccountId: DataLoader<string, RelationRecord[]>;
  /** A person's links with their accounts joined: one aggregate per batch of people. */
  accountLinksByPersonId: DataLoader<string, RelationWithAccount[]>;
}

export function createAccountLoaders(repositories: {
  accounts: AccountsRepository;
  opportunities: OpportunitiesRepository;
  relations: RelationsRepository;
}): AccountLoaders {
  const { accounts, opportunities, relations } = repositories;
  return {
    accountById: createByIdLoader((ids) => accounts.findByIds(ids), (account) => account.id),
    opportunityById: createByIdLoader((ids) => opportunities.findByIds(ids), (opportunity) => opportunity.id),
    opportunitiesByAccountId: createGroupLoader((ids) => opportunities.findByAccountIds(ids), (opportunity) => opportunity.accountId),
    relationsByAccountId: createGroupLoader((ids) => relations.findByAccountIds(ids), (relation) => relation.accountId),
    accountLinksByPersonId: createGroupLoader((ids) => relations.findByPersonIdsWithAccounts(ids), (link) => link.personId),
  };
}
