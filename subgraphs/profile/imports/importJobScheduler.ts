/**
 * Schedules import jobs from the profile subgraph's process. The job lands in
 * the worker's Agenda collection (`agendaJobs` in the platform database), where
 * any worker's change-stream notification or poll picks it up. This Agenda only
 * writes jobs: it is never started, so the subgraph runs none itself.
 */
import type { Agenda } from 'agenda';
import type { Databases } from '../../../lib/mongo/databases.js';
import { JOBS_COLLECTION, jobWriter } from '../../../lib/jobs.js';
import { IMPORT_JOB_NAME, type ImportJobPayload } from './payload.js';

export interface ImportJobScheduler {
  /** Idempotent per import: scheduling an import twice leaves one job. */
  schedule(payload: ImportJobPayload): Promise<void>;
}

/**
 * Writes the import's job: one per import (unique on sandbox and import id, insert only), so
 * scheduling again, from a retried completeUpload or the sweep, leaves the existing job alone.
 */
export async function scheduleImportJob(agenda: Agenda, payload: ImportJobPayload): Promise<void> {
  await agenda
    .create(IMPORT_JOB_NAME, payload)
    .unique({ 'data.sandbox': payload.sandbox, 'data.importId': payload.importId }, { insertOnly: true })
    .schedule(new Date())
    .save();
}

/** Of these imports of `sandbox`, those with no import job in Agenda's collection (waiting, running or done). */
export async function importsWithoutJob(databases: Databases, sandbox: string, importIds: readonly string[]): Promise<string[]> {
  if (importIds.length === 0) return [];
  const jobs = await databases
    .platform()
    .collection(JOBS_COLLECTION)
    .find({ name: IMPORT_JOB_NAME, 'data.sandbox': sandbox, 'data.importId': { $in: [...importIds] } }, { projection: { 'data.importId': 1 } })
    .toArray();
  const scheduled = new Set(jobs.map((job) => (job.data as { importId?: unknown } | undefined)?.importId));
  return importIds.filter((id) => !scheduled.has(id));
}

export function createImportJobScheduler(databases: Databases): ImportJobScheduler {
  return {
    async schedule(payload) {
      await scheduleImportJob(await jobWriter(databases), payload);
    },
  };
}
