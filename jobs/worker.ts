/**
 * The jobs worker: Agenda on the platform database, with MongoDB change-stream
 * notifications so a job scheduled by any process starts at once on any worker.
 * Several workers may run side by side; Agenda's locking keeps each job on one.
 */
import { Agenda } from 'agenda';
import { MongoBackend, MongoChangeStreamNotificationChannel } from '@agendajs/mongo-backend';
import { DEFAULT_AUDIENCE_SETTINGS, type AudienceSettings, type SecurityConfig, type SubgraphName } from '../lib/config.js';
import { JOBS_COLLECTION } from '../lib/jobs.js';
import type { Databases } from '../lib/mongo/databases.js';
import type { Logger } from '../lib/logger.js';
import type { JobModule, RunningWorkerService, WorkerService } from '../lib/jobs.js';
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
  now?: () => Date;
}

export interface RunningWorker {
  readonly agenda: Agenda;
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
  for (const job of options.jobs ?? JOBS) job.define(agenda, deps);

  await agenda.ready;
  await agenda.start();
  const services: RunningWorkerService[] = [];
  try {
    for (const service of options.services ?? WORKER_SERVICES) services.push(await service.start(deps));
  } catch (error) {
    for (const started of services.reverse()) await started.stop().catch(() => {});
    await agenda.drain({ timeout: 1_000, closeConnection: false });
    throw error;
  }
  logger.info(
    { jobs: (options.jobs ?? JOBS).map((job) => job.name), services: (options.services ?? WORKER_SERVICES).map((service) => service.name) },
    'Worker started',
  );

  return {
    agenda,
    async stop(timeoutMs = 10_000) {
      for (const service of services.splice(0).reverse()) {
        await service.stop().catch((error: unknown) => logger.error({ err: error }, 'Error while stopping a worker service'));
      }
      // drain() stops taking jobs and waits for running ones; the client is the caller's to close.
      const result = await agenda.drain({ timeout: timeoutMs, closeConnection: false });
      if (result.timedOut) logger.warn({ running: result.running }, 'Worker stopped with jobs still running; they will be retried');
      logger.info('Worker stopped');
    },
  };
}
