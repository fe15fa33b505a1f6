/** The profile subgraph's request context: services and loaders bound to the request's sandbox. */
import { contextBase, serviceDeps, type SubgraphContextBase } from '../../lib/subgraph/context.js';
import type { IdGenerator } from '../../lib/subgraph/ids.js';
import type { RequestScope } from '../../lib/subgraph/requestScope.js';
import { EventService } from './event.service.js';
import { EventsRepository } from './events.repository.js';
import { FragmentsRepository } from './fragments.repository.js';
import { ImportsRepository, ImportsService, type ImportJobScheduler } from './imports/index.js';
import { createProfileLoaders, type ProfileLoaders } from './loaders.js';
import { MergeService } from './merge.service.js';
import { MergesRepository } from './merges.repository.js';
import { PeopleRepository } from './people.repository.js';
import { PersonWriter } from './personWriter.js';
import { ProfileService } from './profile.service.js';
import { SettingsRepository } from './settings.repository.js';

export interface ProfileContext extends SubgraphContextBase {
  readonly loaders: ProfileLoaders;
  readonly services: {
    readonly profiles: ProfileService;
    readonly events: EventService;
    readonly merges: MergeService;
    readonly imports: ImportsService;
  };
}

export function createProfileContext(scope: RequestScope, deps: { ids: IdGenerator; scheduler: ImportJobScheduler }): ProfileContext {
  const repos = {
    people: new PeopleRepository(scope.db),
    fragments: new FragmentsRepository(scope.db),
    merges: new MergesRepository(scope.db),
    settings: new SettingsRepository(scope.db),
    events: new EventsRepository(scope.db),
  };
  const base = serviceDeps(scope, deps.ids);
  const writer = new PersonWriter(repos, { now: scope.now, ids: deps.ids });
  return Object.freeze({
    ...contextBase(scope),
    loaders: createProfileLoaders(repos.people),
    services: Object.freeze({
      profiles: new ProfileService(repos, writer, base),
      events: new EventService(repos, writer, base),
      merges: new MergeService(repos, writer, base),
      imports: new ImportsService(new ImportsRepository(scope.db), { principal: scope.principal, now: scope.now, scheduler: deps.scheduler }),
    }),
  });
}
