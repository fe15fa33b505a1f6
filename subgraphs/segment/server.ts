/** Starts the segment subgraph: segment definitions, memberships, evaluation runs, preview and explain. */
import { createIdGenerator, type IdGenerator } from '../../lib/subgraph/ids.js';
import { loadTypeDefs } from '../../lib/subgraph/schema.js';
import { startSubgraphServer, type SubgraphStartOptions } from '../../lib/subgraph/server.js';
import type { Databases } from '../../lib/mongo/databases.js';
import type { RunningService } from '../../lib/service.js';
import { createSegmentContext, type EvaluationScheduling, type SegmentContext } from './context.js';
import { getEvaluationSchedule, scheduleEvaluation, setEvaluationSchedule } from './evaluation/index.js';
import { resolvers } from './resolvers.js';
import { readStreamingStatus } from './streaming/index.js';

export const SEGMENT_TYPE_DEFS = loadTypeDefs(new URL('./schema.graphql', import.meta.url));

export interface SegmentSubgraphOptions extends SubgraphStartOptions {
  ids?: IdGenerator;
}

function evaluationScheduling(databases: Databases, ids: IdGenerator): EvaluationScheduling {
  return {
    schedule: (sandbox, segmentIds, now) => scheduleEvaluation(databases, sandbox, { segmentIds, now, ids }),
    getSchedule: async (sandbox, now) => (await getEvaluationSchedule(databases.sandbox(sandbox), now)).cron,
    setSchedule: async (sandbox, cron, now) => (await setEvaluationSchedule(databases.sandbox(sandbox), cron, now)).cron,
  };
}

export function startSegmentSubgraph(options: SegmentSubgraphOptions): Promise<RunningService> {
  const ids = options.ids ?? createIdGenerator(options.now);
  // Evaluation runs are queued for the worker; this process never runs them.
  const scheduling = evaluationScheduling(options.databases, ids);
  return startSubgraphServer<SegmentContext>({
    ...options,
    name: 'segment',
    typeDefs: SEGMENT_TYPE_DEFS,
    resolvers,
    createContext: (scope) =>
      createSegmentContext(scope, { ids, scheduling, streaming: (sandbox, now) => readStreamingStatus(options.databases.platform(), sandbox, now) }),
  });
}
