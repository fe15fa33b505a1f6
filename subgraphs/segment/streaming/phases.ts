/**
 * Times the phases of the streaming evaluator's turns into `streaming_phase_seconds`, so an
 * operator (and the streaming benchmark) can see where a change's latency goes.
 */
import { streamingPhaseSeconds } from '../../../lib/metrics/jobMetrics.js';

export type StreamingPhase = 'read' | 'affected' | 'begin' | 'load' | 'evaluate' | 'memberships' | 'events' | 'wake_ups' | 'checkpoint';

export async function timed<T>(phase: StreamingPhase, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await work();
  } finally {
    streamingPhaseSeconds.labels(phase).observe((performance.now() - started) / 1000);
  }
}

export function timedSync<T>(phase: StreamingPhase, work: () => T): T {
  const started = performance.now();
  try {
    return work();
  } finally {
    streamingPhaseSeconds.labels(phase).observe((performance.now() - started) / 1000);
  }
}
