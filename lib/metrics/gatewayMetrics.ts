/** What the gateway counts and times (gateway/plugins/useMetrics.ts records it). */
import { Counter, Histogram } from 'prom-client';
import { METRIC_PREFIX, metricsRegistry } from './registry.js';

export type OperationType = 'query' | 'mutation' | 'subscription' | 'unknown';
/** ok: no errors; error: an answer with errors; refused: turned away before execution. */
export type RequestOutcome = 'ok' | 'error' | 'refused';
export type RefusalReason = 'auth' | 'rate' | 'limits';

/** Latency buckets in seconds: a federated query takes milliseconds, an import batch seconds. */
const LATENCY_BUCKETS = [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export const gatewayRequests = new Counter({
  name: `${METRIC_PREFIX}gateway_requests_total`,
  help: 'GraphQL requests answered by the gateway, by operation type and outcome',
  labelNames: ['operation_type', 'outcome'] as const,
  registers: [metricsRegistry],
});

export const gatewayRequestDuration = new Histogram({
  name: `${METRIC_PREFIX}gateway_request_duration_seconds`,
  help: 'Time from a GraphQL request reaching the gateway to its answer, by operation type',
  labelNames: ['operation_type'] as const,
  buckets: LATENCY_BUCKETS,
  registers: [metricsRegistry],
});

export const subgraphFetchDuration = new Histogram({
  name: `${METRIC_PREFIX}gateway_subgraph_fetch_duration_seconds`,
  help: 'Time of each query or mutation the gateway sends to a subgraph, by subgraph and outcome',
  labelNames: ['subgraph', 'outcome'] as const,
  buckets: LATENCY_BUCKETS,
  registers: [metricsRegistry],
});

export const gatewayRefusals = new Counter({
  name: `${METRIC_PREFIX}gateway_refusals_total`,
  help: 'Requests refused before execution: auth (no, bad or unauthorized key), rate (per-key rate limit), limits (request and document limits)',
  labelNames: ['reason'] as const,
  registers: [metricsRegistry],
});

for (const reason of ['auth', 'rate', 'limits'] as const) gatewayRefusals.labels(reason);

/** The refusal a GraphQL error code stands for, if any. */
export function refusalReasonOf(code: unknown): RefusalReason | undefined {
  switch (code) {
    case 'UNAUTHENTICATED':
    case 'FORBIDDEN':
      return 'auth';
    case 'RATE_LIMITED':
      return 'rate';
    case 'LIMIT_EXCEEDED':
      return 'limits';
    default:
      return undefined;
  }
}

/** A request answered at the HTTP edge, before the GraphQL runtime (body and document checks). */
export function countEdgeRefusal(code: string): void {
  const reason = refusalReasonOf(code);
  if (reason) gatewayRefusals.labels(reason).inc();
  gatewayRequests.labels('unknown', reason ? 'refused' : 'error').inc();
}
