/** Starts the profile subgraph: people profiles, the identity graph, experience events and imports. */
import { createIdGenerator, type IdGenerator } from '../../lib/subgraph/ids.js';
import { loadTypeDefs } from '../../lib/subgraph/schema.js';
import { startSubgraphServer, type SubgraphStartOptions } from '../../lib/subgraph/server.js';
import type { RunningService } from '../../lib/service.js';
import { createProfileContext, type ProfileContext } from './context.js';
import { createImportJobScheduler } from './imports/index.js';
import { resolvers } from './resolvers.js';

export const PROFILE_TYPE_DEFS = loadTypeDefs(new URL('./schema.graphql', import.meta.url));

export interface ProfileSubgraphOptions extends SubgraphStartOptions {
  ids?: IdGenerator;
}

export function startProfileSubgraph(options: ProfileSubgraphOptions): Promise<RunningService> {
  const ids = options.ids ?? createIdGenerator(options.now);
  // Completing an import's upload queues its job for the worker; this process never runs jobs.
  const scheduler = createImportJobScheduler(options.databases);
  return startSubgraphServer<ProfileContext>({
    ...options,
    name: 'profile',
    typeDefs: PROFILE_TYPE_DEFS,
    resolvers,
    createContext: (scope) => createProfileContext(scope, { ids, scheduler }),
  });
}
