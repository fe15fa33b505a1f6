/** The account subgraph's request context: services and loaders bound to the request's sandbox. */
import { contextBase, serviceDeps, type SubgraphContextBase } from '../../lib/subgraph/context.js';
import type { IdGenerator } from '../../lib/subgraph/ids.js';
import type { RequestScope } from '../../lib/subgraph/requestScope.js';
import { AccountService } from './account.service.js';
import { AccountsRepository } from './accounts.repository.js';
import { createAccountLoaders, type AccountLoaders } from './loaders.js';
import { OpportunitiesRepository } from './opportunities.repository.js';
import { OpportunityService } from './opportunity.service.js';
import { RelationsRepository } from './relations.repository.js';
import { RelationService } from './relation.service.js';

export interface AccountContext extends SubgraphContextBase {
  readonly loaders: AccountLoaders;
  readonly services: {
    readonly accounts: AccountService;
    readonly opportunities: OpportunityService;
    readonly relations: RelationService;
  };
}

export function createAccountContext(scope: RequestScope, deps: { ids: IdGenerator }): AccountContext {
  const accounts = new AccountsRepository(scope.db);
  const opportunities = new OpportunitiesRepository(scope.db);
  const relations = new RelationsRepository(scope.db);
  const servicesDeps = serviceDeps(scope, deps.ids);
  return Object.freeze({
    ...contextBase(scope),
    loaders: createAccountLoaders({ accounts, opportunities, relations }),
    services: Object.freeze({
      accounts: new AccountService(accounts, servicesDeps),
      opportunities: new OpportunityService(opportunities, accounts, servicesDeps),
      relations: new RelationService(relations, accounts, servicesDeps),
    }),
  });
}
