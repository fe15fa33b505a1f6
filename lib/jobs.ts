/**
 * The shape of every job and where Agenda keeps them. A job module lives with
 * the feature that owns its data (e.g. `subgraphs/profile/imports/import.job.ts`);
 * the worker (`jobs/`) only registers the modules it is given. A job must be safe
 * to run twice: several workers may run at once, and a killed worker's job is retried.
 */
import { Agenda, type Job } from 'agenda';
import { MongoBackend } from '@agendajs/mongo-backend';
import type { AudienceSettings, SecurityConfig, SubgraphName } from './config.js';
import type { Databases } from './mongo/databases.js';
import type { Logger } from './logger.js';

/**
 * Where Agenda keeps jobs, in the platform database: the worker processes them;
 * subgraphs that start jobs (imports, evaluations) only write them there.
 */
export const JOBS_COLLECTION = 'agendaJobs';

export interface JobDependencies {
  databases: Databases;
  logger: Logger;
  now: () => Date;
  /** Where jobs reach the subgraphs, which stay the only writers of their collections. */
  subgraphUrls: Readonly<Record<SubgraphName, string>>;
  /**
   * Jobs sign their own gateway tokens (for the sandbox and role that started them); activation
   * delivery opens destination credentials with the encryption key (without it, it delivers nothing)
   * and lets destinations and source syncs reach private addresses only with `allowPrivateDestinations`.
   */
  security: Pick<SecurityConfig, 'gatewaySecret'> & Partial<Pick<SecurityConfig, 'encryptionKey' | 'allowPrivateDestinations'>>;
  /** How memberships are kept (retention of exited ones). */
  audiences: AudienceSettings;
}

/** One job: a name constant, a typed payload, and a `define` that registers its handler. */
export interface JobModule {
  readonly name: string;
  define(agenda: Agenda, deps: JobDependencies): void;
}

/**
 * A long-running part of the worker beside its Agenda jobs (the streaming evaluator):
 * started after the worker's jobs, stopped before them. Like a job, it must be safe
 * to run in several worker processes at once (coordinate through MongoDB, not memory).
 */
export interface WorkerService {
  readonly name: string;
  start(deps: JobDependencies): Promise<RunningWorkerService>;
}

export interface RunningWorkerService {
  /** Stops taking work and finishes or hands back what it holds. */
  stop(): Promise<void>;
}

const writers = new WeakMap<Databases, Promise<Agenda>>();

/**
 * An Agenda that only writes jobs into the jobs collection (it is never started, so this
 * process runs none), one per Databases (its client), made on first use. Subgraphs schedule
 * their features' jobs with it; any worker's change-stream notification or poll picks them up.
 */
export function jobWriter(databases: Databases): Promise<Agenda> {
  let writer = writers.get(databases);
  if (!writer) {
    writer = (async () => {
      const agenda = new Agenda({ backend: new MongoBackend({ mongo: databases.platform(), collection: JOBS_COLLECTION }) });
      await agenda.ready;
      return agenda;
    })();
    writer.catch(() => writers.delete(databases));
    writers.set(databases, writer);
  }
  return writer;
}

/**
 * A job that carries out one stored run of a sandbox (an import, an evaluation run, a merge
 * policy run): its payload names the sandbox and the run, under `idField`.
 */
export interface RunJobKind {
  name: string;
  idField: string;
}

/**
 * Writes the run's job unless it has one (waiting, running or done): unique on sandbox and run
 * id, insert only, so scheduling again (a retried request, a sweep) leaves the existing job alone.
 */
export async function scheduleRunJob(databases: Databases, kind: RunJobKind, payload: { sandbox: string } & Record<string, unknown>): Promise<void> {
  const agenda = await jobWriter(databases);
  await agenda
    .create(kind.name, payload)
    .unique({ 'data.sandbox': payload.sandbox, [`data.${kind.idField}`]: payload[kind.idField] }, { insertOnly: true })
    .schedule(new Date())
    .save();
}

/** Of these runs of `sandbox`, those with no job in Agenda's collection (waiting, running or done). */
export async function runsWithoutJob(databases: Databases, kind: RunJobKind, sandbox: string, runIds: readonly string[]): Promise<string[]> {
  if (runIds.length === 0) return [];
  const jobs = await databases
    .platform()
    .collection(JOBS_COLLECTION)
    .find({ name: kind.name, 'data.sandbox': sandbox, [`data.${kind.idField}`]: { $in: [...runIds] } }, { projection: { [`data.${kind.idField}`]: 1 } })
    .toArray();
  const scheduled = new Set(jobs.map((job) => (job.data as Record<string, unknown> | undefined)?.[kind.idField]));
  return runIds.filter((id) => !scheduled.has(id));
}

/**
 * For a long job that reports progress: renews its Agenda lock when a quarter of the lock's
 * lifetime (at most 30 s) has passed since the last renewal, so the lock never lapses while
 * the job works and a progress report does not cost a write each time.
 */
export function lockRenewal(job: Pick<Job, 'touch'>, lockLifetimeMs: number): () => Promise<void> {
  const renewEveryMs = Math.min(30_000, lockLifetimeMs / 4);
  let touchedAt = Date.now();
  return async () => {
    if (Date.now() - touchedAt < renewEveryMs) return;
    touchedAt = Date.now();
    await job.touch();
  };
}
