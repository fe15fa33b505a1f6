/** Starts the account subgraph: accounts, opportunities, people's links to accounts and opportunity contacts. */
import { createIdGenerator, type IdGenerator } from '../../lib/subgraph/ids.js';
import { loadTypeDefs } from '../../lib/subgraph/schema.js';
import { startSubgraphServer, type SubgraphStartOptions } from '../../lib/subgraph/server.js';
import type { RunningService } from '../../lib/service.js';
import { createAccountContext, type AccountContext } from './context.js';
import { resolvers } from './resolvers.js';

export const ACCOUNT_TYPE_DEFS = loadTypeDefs(new URL('./schema.graphql', import.meta.url));

export interface AccountSubgraphOptions extends SubgraphStartOptions {
  ids?: IdGenerator;
}

export function startAccountSubgraph(options: AccountSubgraphOptions): Promise<RunningService> {
  const ids = options.ids ?? createIdGenerator(options.now);
  return startSubgraphServer<AccountContext>({
    ...options,
    name: 'account',
    typeDefs: ACCOUNT_TYPE_DEFS,
    resolvers,
    createContext: (scope) => createAccountContext(scope, { ids }),
  });
}
