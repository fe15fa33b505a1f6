/** Starts the destination subgraph: where audiences are pushed, with write-only credentials. */
import { createIdGenerator, type IdGenerator } from '../../lib/subgraph/ids.js';
import { loadTypeDefs } from '../../lib/subgraph/schema.js';
import { startSubgraphServer, type SubgraphStartOptions } from '../../lib/subgraph/server.js';
import type { RunningService } from '../../lib/service.js';
import { createDestinationContext, type DestinationContext } from './context.js';
import { createCredentialsVault } from './credentials.js';
import { resolvers } from './resolvers.js';

export const DESTINATION_TYPE_DEFS = loadTypeDefs(new URL('./schema.graphql', import.meta.url));

export interface DestinationSubgraphOptions extends SubgraphStartOptions {
  ids?: IdGenerator;
}

export async function startDestinationSubgraph(options: DestinationSubgraphOptions): Promise<RunningService> {
  const ids = options.ids ?? createIdGenerator(options.now);
  const credentials = createCredentialsVault(options.security.encryptionKey);
  return startSubgraphServer<DestinationContext>({
    ...options,
    name: 'destination',
    typeDefs: DESTINATION_TYPE_DEFS,
    resolvers,
    createContext: (scope) => createDestinationContext(scope, { ids, credentials }),
  });
}
