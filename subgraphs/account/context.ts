/** The account subgraph's request context: services and loaders bound to the request's sandbox. */
import { contextBase, serviceDeps, type SubgraphContextBase } from '../../lib/subgraph/context.js';
import type { IdGenerator } from '../../lib/subgraph/ids.js';
import type { RequestScope } from '../../lib/subgraph/requestScope.js';
import { AccountService } from './account.service.js';
import { AccountsRepository } from './accounts.repository.js';
import { createAccountLoaders, type AccountLoaders } from './loaders.js';
import { OpportunitiesRepository } from './opportunities.repository.js';
import { OpportunityService } from './opportunity.service.js';
import { PersonLinkService } from './personLink.service.js';
import { ACCOUNT_PERSON_LINKS, OPPORTUNITY_CONTACTS, PersonLinksRepository } from './personLinks.repository.js';

export interface AccountContext extends SubgraphContextBase {
  readonly loaders: AccountLoaders;
  readonly services: {
    readonly accounts: AccountService;
    readonly opportunities: OpportunityService;
    readonly accountLinks: PersonLinkService;
    readonly opportunityContacts: PersonLinkService;
  };
}

export function createAccountContext(scope: RequestScope, deps: { ids: IdGenerator }): AccountContext {
  const accounts = new AccountsRepository(scope.db);
  const opportunities = new OpportunitiesRepository(scope.db);
  const accountLinks = new PersonLinksRepository(scope.db, ACCOUNT_PERSON_LINKS);
  const opportunityContacts = new PersonLinksRepository(scope.db, OPPORTUNITY_CONTACTS);
  const servicesDeps = serviceDeps(scope, deps.ids);
  return Object.freeze({
    ...contextBase(scope),
    loaders: createAccountLoaders({ accounts, opportunities, accountLinks, opportunityContacts }),
    services: Object.freeze({
      accounts: new AccountService(accounts, servicesDeps),
      opportunities: new OpportunityService(opportunities, accounts, servicesDeps),
      accountLinks: new PersonLinkService(
        accountLinks,
        ACCOUNT_PERSON_LINKS,
        { what: 'Account', fields: { id: 'accountId', sourceKey: 'accountSourceKey', role: 'jobRole' }, findByIdsOrSourceKeys: (ids, keys) => accounts.findByIdsOrSourceKeys(ids, keys) },
        servicesDeps,
      ),
      opportunityContacts: new PersonLinkService(
        opportunityContacts,
        OPPORTUNITY_CONTACTS,
        { what: 'Opportunity', fields: { id: 'opportunityId', sourceKey: 'opportunitySourceKey', role: 'role' }, findByIdsOrSourceKeys: (ids, keys) => opportunities.findByIdsOrSourceKeys(ids, keys) },
        servicesDeps,
      ),
    }),
  });
}
