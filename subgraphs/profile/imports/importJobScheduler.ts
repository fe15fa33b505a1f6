/**
 * Schedules import jobs from the profile subgraph's process. The job lands in
 * the worker's Agenda collection (`agendaJobs` in the platform database), where
 * any worker's change-stream notification or poll picks it up. This Agenda only
 * writes jobs: it is never started, so the subgraph runs none itself.
 */
import type { Databases } from '../../../lib/mongo/databases.js';
import { runsWithoutJob, scheduleRunJob, type RunJobKind } from '../../../lib/jobs.js';
import { IMPORT_JOB_NAME, type ImportJobPayload } from './payload.js';

export interface ImportJobScheduler {
  /** Idempotent per import: scheduling an import twice leaves one job. */
  schedule(payload: ImportJobPayload): Promise<void>;
}

const IMPORT_JOB: RunJobKind = { name: IMPORT_JOB_NAME, idField: 'importId' };

/**
 * Writes the import's job: one per import, so scheduling again, from a retried
 * completeUpload or the sweep, leaves the existing job alone.
 */
export function scheduleImportJob(databases: Databases, payload: ImportJobPayload): Promise<void> {
  return scheduleRunJob(databases, IMPORT_JOB, { ...payload });
}

/** Of these imports of `sandbox`, those with no import job (waiting, running or done). */
export function importsWithoutJob(databases: Databases, sandbox: string, importIds: readonly string[]): Promise<string[]> {
  return runsWithoutJob(databases, IMPORT_JOB, sandbox, importIds);
}

export function createImportJobScheduler(databases: Databases): ImportJobScheduler {
  return {
    schedule: (payload) => scheduleImportJob(databases, payload),
  };
}
