/**
 * The jobs worker: Agenda on the platform database, with MongoDB change-stream
 * notifications so a job scheduled by any process starts at once on any worker.
 * Several workers may run side by side; Agenda's locking keeps each job on one.
 */
import { performance } from 'node:perf_hooks';
import { Agenda, type JobWithId } from 'agenda';
import { MongoBackend, MongoChangeStreamNotificationChannel } from '@agendajs/mongo-backend';
import { DEFAULT_AUDIENCE_SETTINGS, type AudienceSettings, type SecurityConfig, type SubgraphName } from '../lib/config.js';
import { JOBS_COLLECTION } from '../lib/jobs.js';
import type { Databases } from '../lib/mongo/databases.js';
import type { Logger } from '../lib/logger.js';
import type { JobModule, RunningWorkerService, WorkerService } from '../lib/jobs.js';
import { startMetricsServer, type RunningMetricsServer } from '../lib/metrics/metricsServer.js';
import { jobDuration, jobRuns } from '../lib/metrics/jobMetrics.js';
import { JOBS, WORKER_SERVICES } from './registry.js';

export interface WorkerOptions {
  databases: Databases;
  logger: Logger;
  subgraphUrls: Readonly<Record<SubgraphName, string>>;
  security: Pick<SecurityConfig, 'gatewaySecret'> & Partial<Pick<SecurityConfig, 'encryptionKey'>>;
  /** `config.audiences`; the defaults when left out. */
  audiences?: AudienceSettings;
  /** Which jobs this worker runs; every registered job by default. */
  jobs?: readonly JobModule[];
  /** Which long-running services it runs beside them; every registered one by default. */
  services?: readonly WorkerService[];
  /** Polling interval in milliseconds, a safety net behind the change-stream notifications. */
  processEveryMs?: number;
  /** Names this worker in Agenda, to tell workers apart. */
  name?: string;
  /**
   * Serve /metrics on this port (0 picks a free one), for a worker in a process of its own;
   * none when the process already serves them (`npm start`: on the gateway).
   */
  metrics?: { port: number; host: string };
  now?: () => Date;
}

export interface RunningWorker {
  readonly agenda: Agenda;
  /** The worker's /metrics URL, when it serves them itself. */
  readonly metricsUrl: string | undefined;
  /** Stops taking jobs and waits (up to `timeoutMs`) for running ones to finish. */
  stop(timeoutMs?: number): Promise<void>;
}

export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const db = options.databases.platform();
  const logger = options.logger.child({ component: 'worker' });
  const agenda = new Agenda({
    backend: new MongoBackend({ mongo: db, collection: JOBS_COLLECTION }),
    notificationChannel: new MongoChangeStreamNotificationChannel({ db, collection: JOBS_COLLECTION }),
    // Agenda reads a string like '300 milliseconds' loosely; a number of ms is exact.
    processEvery: options.processEveryMs ?? 5_000,
    name: options.name,
  });
  agenda.on('error', (error: unknown) => logger.error({ err: error }, 'Agenda error'));
  agenda.on('fail', (error: unknown, job: { attrs: { name: string } }) =>
    logger.warn({ err: error, job: job.attrs.name }, 'Job failed'),
  );

  const deps = {
    databases: options.databases,
    logger,
    now: options.now ?? (() => new Date()),
    subgraphUrls: options.subgraphUrls,
    security: options.security,
    audiences: options.audiences ?? DEFAULT_AUDIENCE_SETTINGS,
  };
  const jobs = options.jobs ?? JOBS;
  for (const job of jobs) job.define(agenda, deps);
  observeJobRuns(agenda, new Set(jobs.map((job) => job.name)));

  await agenda.ready;
  const metrics = options.metrics ? await serveWorkerMetrics(options.metrics, logger) : undefined;
  await agenda.start();
  const services: RunningWorkerService[] = [];
  try {
    for (const service of options.services ?? WORKER_SERVICES) services.push(await service.start(deps));
  } catch (error) {
    for (const started of services.reverse()) await started.stop().catch(() => {});
    await agenda.drain({ timeout: 1_000, closeConnection: false });
    await metrics?.stop();
    throw error;
  }
  logger.info(
    { jobs: (options.jobs ?? JOBS).map((job) => job.name), services: (options.services ?? WORKER_SERVICES).map((service) => service.name) },
    'Worker started',
  );

  return {
    agenda,
    metricsUrl: metrics?.url,
    async stop(timeoutMs = 10_000) {
      for (const service of services.splice(0).reverse()) {
        await service.stop().catch((error: unknown) => logger.error({ err: error }, 'Error while stopping a worker service'));
      }
      // drain() stops taking jobs and waits for running ones; the client is the caller's to close.
      const result = await agenda.drain({ timeout: timeoutMs, closeConnection: false });
      if (result.timedOut) logger.warn({ running: result.running }, 'Worker stopped with jobs still running; they will be retried');
      await metrics?.stop();
      logger.info('Worker stopped');
    },
  };
}

/**
 * Counts and times the job runs of this worker (Agenda also reports other workers'
 * runs as remote events: those are theirs to count). Job names are the registered ones.
 */
function observeJobRuns(agenda: Agenda, names: ReadonlySet<string>): void {
  const started = new Map<string, number>();
  const runKey = (job: JobWithId) => `${job.attrs.name}:${String(job.attrs._id)}`;
  const finish = (job: JobWithId, outcome: 'success' | 'failure') => {
    const startedAt = started.get(runKey(job));
    started.delete(runKey(job));
    const name = names.has(job.attrs.name) ? job.attrs.name : 'other';
    jobRuns.labels(name, outcome).inc();
    if (startedAt !== undefined) jobDuration.labels(name, outcome).observe((performance.now() - startedAt) / 1000);
  };
  agenda.on('start', (job, remote) => {
    if (!remote) started.set(runKey(job as JobWithId), performance.now());
  });
  agenda.on('success', (job, remote) => {
    if (!remote) finish(job as JobWithId, 'success');
  });
  agenda.on('fail', (_error, job, remote) => {
    if (!remote) finish(job as JobWithId, 'failure');
  });
}

/** A port already taken (a second worker on the host) costs the metrics, not the worker. */
async function serveWorkerMetrics(where: { port: number; host: string }, logger: Logger): Promise<RunningMetricsServer | undefined> {
  try {
    return await startMetricsServer({ ...where, logger });
  } catch (error) {
    logger.warn({ err: error, port: where.port }, 'Could not serve metrics; give each worker on this host its own WORKER_METRICS_PORT');
    return undefined;
  }
}
