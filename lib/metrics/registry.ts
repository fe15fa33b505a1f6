/**
 * The process's Prometheus registry. Metrics describe a process, so there is
 * one registry per process: `npm start` (gateway, subgraphs and worker in one
 * process) shows everything on the gateway's /metrics; a worker on its own
 * serves the same registry on its metrics port (metricsServer.ts).
 *
 * Every label has a small, fixed set of values (operation types, outcomes, job
 * and subgraph names, destination types): never API keys, ids or sandbox names.
 */
import { Registry, collectDefaultMetrics } from 'prom-client';

export const METRICS_PATH = '/metrics';
export const METRIC_PREFIX = 'cdp_';

export const metricsRegistry = new Registry();
// Process CPU, memory, event-loop lag, GC and handles, as `cdp_process_*` and `cdp_nodejs_*`.
collectDefaultMetrics({ register: metricsRegistry, prefix: METRIC_PREFIX });

/** The registry in Prometheus text format. */
export async function renderMetrics(): Promise<{ contentType: string; body: string }> {
  return { contentType: metricsRegistry.contentType, body: await metricsRegistry.metrics() };
}
