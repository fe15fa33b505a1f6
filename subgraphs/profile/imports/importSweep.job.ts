/**
 * The import sweep: every minute, fails uploads abandoned past their expiry (removing their
 * chunks, which would otherwise hold the sandbox's upload quota for good), and finds imports
 * left QUEUED without a job (the profile subgraph
 * crashed between queueing an import and scheduling its job) and schedules their jobs. Scheduling
 * is unique per import (importJobScheduler.ts), so a sweep racing a retried completeUpload, or
 * another worker's sweep, still leaves one job. Sandboxes come from the platform's `sandboxes`
 * collection, never from listing databases.
 */
import type { Agenda } from 'agenda';
import type { Principal } from '../../../lib/auth/roles.js';
import type { Databases } from '../../../lib/mongo/databases.js';
import type { Logger } from '../../../lib/logger.js';
import { TenancyRepository } from '../../../lib/tenancy/tenancy.repository.js';
import { importsWithoutJob, scheduleImportJob } from './importJobScheduler.js';
import { ImportsRepository, type ImportRecord } from './imports.repository.js';
import type { ImportJobPayload } from './payload.js';
import type { JobModule } from '../../../lib/jobs.js';

export const IMPORT_SWEEP_JOB_NAME = 'import-sweep';
export const IMPORT_SWEEP_INTERVAL = '1 minute';
/** How long an import may stay QUEUED without a job before the sweep schedules one. */
export const STUCK_AFTER_MS = 60_000;
/** Imports looked at per sandbox and sweep; the next sweep takes the rest. */
const SWEEP_BATCH = 500;

export interface SweepDependencies {
  databases: Databases;
  logger: Logger;
  now: () => Date;
  schedule: (payload: ImportJobPayload) => Promise<void>;
}

/** Imports from before the principal was stored ran as an editor of their sandbox, the role starting one needs. */
const principalOf = (sandbox: string, record: ImportRecord): Principal =>
  record.principal?.sandbox === sandbox ? record.principal : { sandbox, role: 'editor' };

/** Fails the sandbox's uploads past their expiry and removes their chunks; answers their ids. */
export async function expireAbandonedUploads(imports: ImportsRepository, now: Date): Promise<string[]> {
  const expired: string[] = [];
  for (const record of await imports.listAbandonedUploads(now, SWEEP_BATCH)) {
    const failure =
      `The upload was abandoned: no chunk arrived before ${record.uploadExpiresAt?.toISOString()} (CDP_IMPORT_UPLOAD_EXPIRY_HOURS after the last one), ` +
      'so its chunks were removed; start a new import to send the file';
    // A chunk in flight finds the import no longer UPLOADING and takes itself back (ImportsRepository.putChunk).
    if (!(await imports.transition(record.id, ['UPLOADING'], 'FAILED', { failure, finishedAt: now }, now))) continue;
    await imports.deleteChunks(record.id);
    expired.push(record.id);
  }
  return expired;
}

/** One sweep over every sandbox; returns the imports it scheduled. A failing sandbox does not stop the others. */
export async function sweepQueuedImports(deps: SweepDependencies): Promise<{ sandbox: string; importId: string }[]> {
  const before = new Date(deps.now().getTime() - STUCK_AFTER_MS);
  const scheduled: { sandbox: string; importId: string }[] = [];
  for (const { _id: sandbox } of await new TenancyRepository(deps.databases.platform()).listSandboxes()) {
    try {
      const imports = new ImportsRepository(deps.databases.sandbox(sandbox));
      await imports.ensureIndexes();
      const expired = await expireAbandonedUploads(imports, deps.now());
      if (expired.length > 0) deps.logger.info({ sandbox, imports: expired }, 'Abandoned uploads expired');
      const stuck = await imports.listQueuedSince(before, SWEEP_BATCH);
      const missing = new Set(await importsWithoutJob(deps.databases, sandbox, stuck.map((record) => record.id)));
      for (const record of stuck.filter((candidate) => missing.has(candidate.id))) {
        await deps.schedule({ sandbox, importId: record.id, principal: principalOf(sandbox, record) });
        scheduled.push({ sandbox, importId: record.id });
      }
    } catch (error) {
      deps.logger.error({ err: error, sandbox }, 'Import sweep failed for a sandbox');
    }
  }
  if (scheduled.length > 0) deps.logger.warn({ imports: scheduled }, 'Scheduled jobs of imports left QUEUED without one');
  return scheduled;
}

export const importSweepJob: JobModule = {
  name: IMPORT_SWEEP_JOB_NAME,
  define(agenda: Agenda, deps) {
    const logger = deps.logger.child({ job: IMPORT_SWEEP_JOB_NAME });
    agenda.define(IMPORT_SWEEP_JOB_NAME, async () => {
      await sweepQueuedImports({ ...deps, logger, schedule: (payload) => scheduleImportJob(deps.databases, payload) });
    });
    // One repeating job for all workers (Agenda keeps a single job per `every` name).
    agenda.ready
      .then(() => agenda.every(IMPORT_SWEEP_INTERVAL, IMPORT_SWEEP_JOB_NAME))
      .catch((error: unknown) => logger.error({ err: error }, 'Could not schedule the import sweep'));
  },
};
