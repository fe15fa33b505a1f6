/**
 * Streaming evaluation of segments, owned by the segment subgraph: memberships follow the
 * data as it changes (MongoDB change streams of each sandbox) and time windows close on
 * time (stored wake-ups). It runs as a worker service (`streamingEvaluatorService`, listed in
 * `jobs/registry.ts`); the API reads its status (`readStreamingStatus`).
 *
 * This file is the surface other folders use; tests may reach further in.
 */
export {
  STREAMING_SERVICE_NAME,
  createStreamingEvaluatorService,
  streamingEvaluatorService,
  type StreamingEvaluatorOptions,
} from './evaluator.js';
export { readStreamingStatus, type StreamingView } from './status.js';
export type { StreamingStatus } from './layout.js';
