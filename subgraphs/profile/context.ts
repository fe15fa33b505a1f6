/** The profile subgraph's request context: services and loaders bound to the request's sandbox. */
import { contextBase, serviceDeps, type SubgraphContextBase } from '../../lib/subgraph/context.js';
import type { IdGenerator } from '../../lib/subgraph/ids.js';
import type { RequestScope } from '../../lib/subgraph/requestScope.js';
import { createProfileLoaders, type ProfileLoaders } from './loaders.js';
import { PeopleRepository } from './people.repository.js';
import { ProfileService } from './profile.service.js';

export interface ProfileContext extends SubgraphContextBase {
  readonly loaders: ProfileLoaders;
  readonly services: { readonly profiles: ProfileService };
}

export function createProfileContext(scope: RequestScope, deps: { ids: IdGenerator }): ProfileContext {
  const people = new PeopleRepository(scope.db);
  return Object.freeze({
    ...contextBase(scope),
    loaders: createProfileLoaders(people),
    services: Object.freeze({ profiles: new ProfileService(people, serviceDeps(scope, deps.ids)) }),
  });
}
