/**
 * Prometheus metrics of the gateway's GraphQL traffic (lib/metrics/gatewayMetrics.ts):
 * requests by operation type and outcome with their latency, each subgraph
 * fetch's latency, and refusals. It runs first among the gateway's plugins, so
 * it also sees requests the identity plugin refuses (auth, rate) before any
 * GraphQL work. HTTP requests are timed from arrival to answer; websocket
 * operations are counted as they execute.
 */
import { performance } from 'node:perf_hooks';
import { getOperationAST, type DocumentNode, type GraphQLError } from 'graphql';
import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';
import {
  gatewayRefusals,
  gatewayRequestDuration,
  gatewayRequests,
  refusalReasonOf,
  subgraphFetchDuration,
  type OperationType,
  type RefusalReason,
  type RequestOutcome,
} from '../../lib/metrics/gatewayMetrics.js';

interface RequestRecord {
  startedAt: number;
  operationType?: OperationType;
  outcome?: RequestOutcome;
  refusal?: RefusalReason;
}

/** HTTP statuses the gateway refuses with before any GraphQL work, and what each stands for. */
const REFUSAL_STATUS: Readonly<Record<number, RefusalReason>> = { 401: 'auth', 403: 'auth', 413: 'limits', 429: 'rate' };

export function useMetrics(): GatewayPlugin {
  const requests = new WeakMap<Request, RequestRecord>();
  const recordOf = (context: unknown) => {
    const request = (context as { request?: Request } | undefined)?.request;
    return request ? requests.get(request) : undefined;
  };
  // Label children looked up once: prom-client hashes the labels on every lookup.
  const requestCounter = memoize((key: string) => gatewayRequests.labels(...(key.split('|') as [OperationType, RequestOutcome])));
  const requestTimer = memoize((operationType: string) => gatewayRequestDuration.labels(operationType));
  const fetchTimer = memoize((key: string) => subgraphFetchDuration.labels(...(key.split('|') as [string, string])));
  const finish = (operationType: OperationType, outcome: RequestOutcome, seconds: number | undefined) => {
    requestCounter(`${operationType}|${outcome}`).inc();
    if (seconds !== undefined) requestTimer(operationType).observe(seconds);
  };

  return {
    onRequest({ request }) {
      requests.set(request, { startedAt: performance.now() });
    },
    onValidate({ context }) {
      // Over HTTP the answer shows the refusal (onResultProcess); a websocket operation is counted here.
      if (recordOf(context)) return;
      return ({ valid, result }) => {
        if (valid) return;
        const reason = refusalIn(result);
        if (reason) gatewayRefusals.labels(reason).inc();
        finish('unknown', reason ? 'refused' : 'error', undefined);
      };
    },
    onResultProcess({ request, result }) {
      const record = requests.get(request);
      if (!record || Symbol.asyncIterator in result) return;
      const errors = (Array.isArray(result) ? result : [result]).flatMap((one) => one.errors ?? []);
      if (errors.length === 0) return;
      const reason = refusalIn(errors);
      record.refusal = reason;
      record.outcome = reason ? 'refused' : 'error';
    },
    onExecute({ args }) {
      const operationType = operationTypeOf(args.document, args.operationName);
      const record = recordOf(args.contextValue);
      if (record) record.operationType = operationType;
      const startedAt = performance.now();
      return {
        onExecuteDone({ result }) {
          const outcome: RequestOutcome = 'errors' in result && result.errors?.length ? 'error' : 'ok';
          if (record) record.outcome = outcome;
          // A websocket operation has no HTTP answer to wait for.
          else finish(operationType, outcome, (performance.now() - startedAt) / 1000);
        },
      };
    },
    onSubscribe({ args }) {
      const record = recordOf(args.contextValue);
      if (record) record.operationType = 'subscription';
      else finish('subscription', 'ok', undefined);
    },
    onResponse({ request, response }) {
      const record = requests.get(request);
      if (!record) return;
      requests.delete(request);
      // Refused at the edge (the identity plugin): no GraphQL answer was made.
      const refusal = record.refusal ?? (record.outcome === undefined ? REFUSAL_STATUS[response.status] : undefined);
      if (refusal) {
        gatewayRefusals.labels(refusal).inc();
        record.outcome = 'refused';
      }
      // Neither a GraphQL operation nor an error (e.g. GraphiQL's page): not a request to count.
      if (record.outcome === undefined && record.operationType === undefined && response.status < 400) return;
      finish(record.operationType ?? 'unknown', record.outcome ?? (response.status < 400 ? 'ok' : 'error'), (performance.now() - record.startedAt) / 1000);
    },
    onSubgraphExecute({ subgraphName, executionRequest }) {
      if (executionRequest.operationType === 'subscription') return;
      const startedAt = performance.now();
      return ({ result }) => {
        if (Symbol.asyncIterator in result) return;
        const outcome = result.errors?.length ? 'error' : 'ok';
        fetchTimer(`${subgraphName}|${outcome}`).observe((performance.now() - startedAt) / 1000);
      };
    },
  };
}

/** A lookup by a key from a small, fixed set (label values), kept once found. */
function memoize<T>(lookup: (key: string) => T): (key: string) => T {
  const found = new Map<string, T>();
  return (key) => {
    let value = found.get(key);
    if (value === undefined) {
      value = lookup(key);
      found.set(key, value);
    }
    return value;
  };
}

/** The refusal among a result's errors (LIMIT_EXCEEDED, RATE_LIMITED, ...), if any. */
function refusalIn(errors: ReadonlyArray<unknown>): RefusalReason | undefined {
  for (const error of errors) {
    const reason = refusalReasonOf((error as Partial<GraphQLError>).extensions?.code);
    if (reason) return reason;
  }
  return undefined;
}

function operationTypeOf(document: DocumentNode, operationName: string | null | undefined): OperationType {
  return getOperationAST(document, operationName)?.operation ?? 'unknown';
}
