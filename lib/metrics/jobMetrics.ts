/** Worker metrics: job runs, import rows, segment evaluation, activation delivery and streaming lag. */
import { Counter, Gauge, Histogram } from 'prom-client';
import { METRIC_PREFIX, metricsRegistry } from './registry.js';

export const jobRuns = new Counter({
  name: `${METRIC_PREFIX}job_runs_total`,
  help: 'Agenda job runs finished on this worker, by job and outcome (success or failure)',
  labelNames: ['job', 'outcome'] as const,
  registers: [metricsRegistry],
});

export const jobDuration = new Histogram({
  name: `${METRIC_PREFIX}job_duration_seconds`,
  help: 'Duration of Agenda job runs on this worker, by job and outcome',
  labelNames: ['job', 'outcome'] as const,
  buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600],
  registers: [metricsRegistry],
});

export const importRows = new Counter({
  name: `${METRIC_PREFIX}import_rows_total`,
  help: 'Rows of imported files processed on this worker, by outcome (imported or rejected)',
  labelNames: ['outcome'] as const,
  registers: [metricsRegistry],
});

export const segmentEvaluations = new Counter({
  name: `${METRIC_PREFIX}segment_evaluations_total`,
  help: 'Segment evaluations: batch counts a segment evaluated by a run, streaming a member re-evaluated by the streaming evaluator',
  labelNames: ['mode'] as const,
  registers: [metricsRegistry],
});

export const activationDeliveries = new Counter({
  name: `${METRIC_PREFIX}activation_deliveries_total`,
  help: 'Members sent to destinations, by destination type and outcome (delivered, removed, failed, excluded)',
  labelNames: ['destination_type', 'outcome'] as const,
  registers: [metricsRegistry],
});

/** Lag of each streaming partition this process holds, by sandbox (kept here, never as a label). */
const streamingLags = new Map<string, { lagSeconds: number; reportedAt: number }>();
/** A partition that has not reported for this long is no longer held here (it reports at every heartbeat). */
const LAG_REPORT_TTL_MS = 60_000;

new Gauge({
  name: `${METRIC_PREFIX}streaming_lag_seconds`,
  help: 'Largest lag of the streaming evaluator over the sandboxes this process evaluates: age of the oldest change in its latest batch',
  registers: [metricsRegistry],
  collect() {
    const now = Date.now();
    let max = 0;
    for (const [sandbox, report] of streamingLags) {
      if (now - report.reportedAt > LAG_REPORT_TTL_MS) streamingLags.delete(sandbox);
      else max = Math.max(max, report.lagSeconds);
    }
    this.set(max);
  },
});

/** Where the streaming evaluator's time goes, by phase of its turns (read, affected, load, evaluate, memberships, events, wake_ups, checkpoint). */
export const streamingPhaseSeconds = new Histogram({
  name: `${METRIC_PREFIX}streaming_phase_seconds`,
  help: 'Time the streaming evaluator spent in each phase of its turns on this worker: waiting for and reading changes, finding affected members, loading them, evaluating, writing memberships, appending events, wake-ups, checkpoints',
  labelNames: ['phase'] as const,
  buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [metricsRegistry],
});

/** Called by the streaming evaluator at each checkpoint. */
export function reportStreamingLag(sandbox: string, lagMs: number): void {
  streamingLags.set(sandbox, { lagSeconds: lagMs / 1000, reportedAt: Date.now() });
}

/** Counts an import's rows from its cumulative progress, one call per checkpoint. */
export function importRowCounter(): (progress: { rowsImported: number; rowsRejected: number }) => void {
  // A resumed import's first checkpoint also carries rows counted before the restart, by the process that died.
  let last = { rowsImported: 0, rowsRejected: 0 };
  return (progress) => {
    importRows.inc({ outcome: 'imported' }, Math.max(0, progress.rowsImported - last.rowsImported));
    importRows.inc({ outcome: 'rejected' }, Math.max(0, progress.rowsRejected - last.rowsRejected));
    last = { rowsImported: progress.rowsImported, rowsRejected: progress.rowsRejected };
  };
}

/** Counts one delivered batch's members by outcome. */
export function countDeliveries(destinationType: string, counts: { delivered: number; removed: number; failed: number; excluded: number }): void {
  for (const outcome of ['delivered', 'removed', 'failed', 'excluded'] as const) {
    if (counts[outcome] > 0) activationDeliveries.inc({ destination_type: destinationType, outcome }, counts[outcome]);
  }
}
