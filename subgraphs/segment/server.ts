/** Starts the segment subgraph: segment definitions and their live changes. */
import { createIdGenerator, type IdGenerator } from '../../lib/subgraph/ids.js';
import { loadTypeDefs } from '../../lib/subgraph/schema.js';
import { startSubgraphServer, type SubgraphStartOptions } from '../../lib/subgraph/server.js';
import type { RunningService } from '../../lib/service.js';
import { createSegmentContext, type SegmentContext } from './context.js';
import { resolvers } from './resolvers.js';

export const SEGMENT_TYPE_DEFS = loadTypeDefs(new URL('./schema.graphql', import.meta.url));

export interface SegmentSubgraphOptions extends SubgraphStartOptions {
  ids?: IdGenerator;
}

export function startSegmentSubgraph(options: SegmentSubgraphOptions): Promise<RunningService> {
  const ids = options.ids ?? createIdGenerator(options.now);
  return startSubgraphServer<SegmentContext>({
    ...options,
    name: 'segment',
    typeDefs: SEGMENT_TYPE_DEFS,
    resolvers,
    createContext: (scope) => createSegmentContext(scope, { ids }),
  });
}
