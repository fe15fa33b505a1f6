/**
 * A worker on its own serves /metrics on its port: job runs and durations by job
 * and outcome, after a job has run (and one has failed).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MongoClient } from 'mongodb';
import { startWorker, type RunningWorker } from '../../jobs/worker.js';
import type { JobModule } from '../../lib/jobs.js';
import { silentLogger } from '../../lib/logger.js';
import { createDatabases } from '../../lib/mongo/databases.js';
import { connectTestClient, dropDatabasesWithPrefix, uniqueName } from '../support/mongo.js';
import { metricValue, scrape } from './support.js';

const PROBE_JOB = 'metricsProbe';
const probeJob: JobModule = {
  name: PROBE_JOB,
  define(agenda) {
    agenda.define<{ fail: boolean }>(PROBE_JOB, async (job) => {
      if (job.attrs.data.fail) throw new Error('the probe was asked to fail');
    });
  },
};

describe('worker /metrics', () => {
  let client: MongoClient;
  let prefix: string;
  let worker: RunningWorker;

  beforeAll(async () => {
    client = await connectTestClient();
    prefix = `${uniqueName('wm')}_`;
    worker = await startWorker({
      databases: createDatabases(client, prefix),
      logger: silentLogger,
      subgraphUrls: { profile: 'http://127.0.0.1:1/graphql', account: 'http://127.0.0.1:1/graphql', segment: 'http://127.0.0.1:1/graphql', destination: 'http://127.0.0.1:1/graphql' },
      security: { gatewaySecret: 'worker-metrics-test-secret-0123456789abcdef' },
      jobs: [probeJob],
      services: [],
      processEveryMs: 200,
      metrics: { port: 0, host: '127.0.0.1' },
    });
  });

  afterAll(async () => {
    await worker?.stop();
    await dropDatabasesWithPrefix(client, prefix);
    await client.close();
  });

  it('counts and times job runs by job and outcome', async () => {
    expect(worker.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    await worker.agenda.now(PROBE_JOB, { fail: false });
    await worker.agenda.now(PROBE_JOB, { fail: true });
    const runs = async (outcome: string) => metricValue(await scrape(worker.metricsUrl!), 'cdp_job_runs_total', { job: PROBE_JOB, outcome });
    await expect.poll(() => runs('success'), { timeout: 20_000 }).toBe(1);
    await expect.poll(() => runs('failure'), { timeout: 20_000 }).toBe(1);

    const text = await scrape(worker.metricsUrl!);
    expect(metricValue(text, 'cdp_job_duration_seconds_count', { job: PROBE_JOB, outcome: 'success' })).toBe(1);
    expect(text).toContain('# TYPE cdp_import_rows_total counter');
    expect(text).toContain('# TYPE cdp_streaming_lag_seconds gauge');
  });

  it('answers 404 elsewhere than /metrics', async () => {
    const response = await fetch(new URL('/other', worker.metricsUrl!));
    expect(response.status).toBe(404);
  });
});
