/** The profile subgraph's request context: services and loaders bound to the request's sandbox. */
import type { UploadLimits } from '../../lib/config.js';
import { contextBase, serviceDeps, type SubgraphContextBase } from '../../lib/subgraph/context.js';
import type { IdGenerator } from '../../lib/subgraph/ids.js';
import type { RequestScope } from '../../lib/subgraph/requestScope.js';
import { EventService } from './event.service.js';
import { EventsRepository } from './events.repository.js';
import { FragmentsRepository } from './fragments.repository.js';
import { ImportsRepository, ImportsService, type ImportJobScheduler } from './imports/index.js';
import { CurrentViews } from './currentViews.js';
import { createProfileLoaders, type ProfileLoaders } from './loaders.js';
import { MergeService } from './merge.service.js';
import { MergePolicyRunsRepository } from './mergePolicy/mergePolicyRuns.repository.js';
import type { MergePolicyRunScheduler } from './mergePolicy/mergePolicyScheduler.js';
import { MergesRepository } from './merges.repository.js';
import { PeopleRepository } from './people.repository.js';
import { PersonWriter } from './personWriter.js';
import { ProfileService } from './profile.service.js';
import { SettingsRepository } from './settings.repository.js';
import { createSourcesService, type SourcesFeature, type SourcesService } from './sources/index.js';

export interface ProfileContext extends SubgraphContextBase {
  readonly loaders: ProfileLoaders;
  readonly services: {
    readonly profiles: ProfileService;
    readonly events: EventService;
    readonly merges: MergeService;
    readonly imports: ImportsService;
    readonly sources: SourcesService;
  };
}

export interface ProfileContextDeps {
  ids: IdGenerator;
  scheduler: ImportJobScheduler;
  mergePolicyRuns: MergePolicyRunScheduler;
  sources: SourcesFeature;
  uploads?: UploadLimits;
}

export function createProfileContext(scope: RequestScope, deps: ProfileContextDeps): ProfileContext {
  const repos = {
    people: new PeopleRepository(scope.db),
    fragments: new FragmentsRepository(scope.db),
    merges: new MergesRepository(scope.db),
    settings: new SettingsRepository(scope.db),
    events: new EventsRepository(scope.db),
  };
  const base = serviceDeps(scope, deps.ids);
  const writer = new PersonWriter(repos, { now: scope.now, ids: deps.ids });
  const views = new CurrentViews(repos);
  return Object.freeze({
    ...contextBase(scope),
    loaders: createProfileLoaders(repos.people, views),
    services: Object.freeze({
      profiles: new ProfileService(repos, writer, base, views),
      events: new EventService(repos, writer, base),
      merges: new MergeService(repos, writer, base, { runs: new MergePolicyRunsRepository(scope.db), scheduler: deps.mergePolicyRuns }),
      imports: new ImportsService(new ImportsRepository(scope.db), { principal: scope.principal, now: scope.now, scheduler: deps.scheduler, limits: deps.uploads }),
      sources: createSourcesService(scope, deps.ids, deps.sources),
    }),
  });
}
