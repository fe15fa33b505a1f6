/** Starts the profile subgraph: people profiles, the identity graph, experience events and imports. */
import { createIdGenerator, type IdGenerator } from '../../lib/subgraph/ids.js';
import { loadTypeDefs } from '../../lib/subgraph/schema.js';
import { startSubgraphServer, type SubgraphSecurity, type SubgraphStartOptions } from '../../lib/subgraph/server.js';
import type { UploadLimits } from '../../lib/config.js';
import type { RunningService } from '../../lib/service.js';
import { createProfileContext, type ProfileContext } from './context.js';
import { createImportJobScheduler } from './imports/index.js';
import { createMergePolicyRunScheduler } from './mergePolicy/mergePolicyScheduler.js';
import { resolvers } from './resolvers.js';
import { createSourcesFeature } from './sources/index.js';

export const PROFILE_TYPE_DEFS = loadTypeDefs(new URL('./schema.graphql', import.meta.url));

export interface ProfileSubgraphOptions extends SubgraphStartOptions {
  /**
   * `config.security`: its `uploads` bound import uploads (the defaults when absent);
   * `allowPrivateDestinations` lets sources, like destinations, be at loopback and private addresses.
   */
  security: SubgraphSecurity & { uploads?: UploadLimits; readonly allowPrivateDestinations?: boolean };
  ids?: IdGenerator;
}

export function startProfileSubgraph(options: ProfileSubgraphOptions): Promise<RunningService> {
  const ids = options.ids ?? createIdGenerator(options.now);
  // Completing an import's upload queues its job for the worker; this process never runs jobs.
  const scheduler = createImportJobScheduler(options.databases);
  // Likewise setMergePolicy's recompute runs.
  const mergePolicyRuns = createMergePolicyRunScheduler(options.databases);
  // Likewise source syncs; testSource calls the source from here, inside the shared budgets.
  const sources = createSourcesFeature({
    databases: options.databases,
    encryptionKey: options.security.encryptionKey,
    allowPrivateAddresses: options.security.allowPrivateDestinations,
    logger: options.logger,
    now: options.now,
  });
  return startSubgraphServer<ProfileContext>({
    ...options,
    name: 'profile',
    typeDefs: PROFILE_TYPE_DEFS,
    resolvers,
    createContext: (scope) => createProfileContext(scope, { ids, scheduler, mergePolicyRuns, sources, uploads: options.security.uploads }),
  });
}
