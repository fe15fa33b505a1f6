/**
 * The import sweep: an import left QUEUED without a job (a crash between queueing it and scheduling
 * its job) gets exactly one job, in every live sandbox; imports with a job, fresh ones and those of
 * deleted sandboxes are left alone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MongoClient } from 'mongodb';
import { JOBS_COLLECTION } from '../../lib/jobs.js';
import { silentLogger } from '../../lib/logger.js';
import { createDatabases, type Databases } from '../../lib/mongo/databases.js';
import { TenancyRepository } from '../../lib/tenancy/tenancy.repository.js';
import { IMPORT_JOB_NAME } from '../../subgraphs/profile/imports/payload.js';
import { IMPORT_SWEEP_JOB_NAME, importSweepJob, sweepQueuedImports } from '../../subgraphs/profile/imports/importSweep.job.js';
import { JOBS } from '../../jobs/registry.js';
import { startWorker } from '../../jobs/worker.js';
import { createImportJobScheduler, type ImportJobScheduler } from '../../subgraphs/profile/imports/importJobScheduler.js';
import { ImportsRepository } from '../../subgraphs/profile/imports/imports.repository.js';
import { ImportsService } from '../../subgraphs/profile/imports/imports.service.js';
import { connectTestClient, dropDatabasesWithPrefix, uniqueName } from '../support/mongo.js';

const PREFIX = uniqueName('sweep_');
let client: MongoClient;

beforeAll(async () => {
  client = await connectTestClient();
});
afterAll(async () => {
  await dropDatabasesWithPrefix(client, PREFIX);
  await client?.close();
});

const crashing: ImportJobScheduler = {
  schedule: async () => {
    throw new Error('process killed before the job was scheduled');
  },
};

/** An uploaded import, ready for completeUpload to queue it with `scheduler`. */
async function uploadedImport(databases: Databases, sandbox: string, scheduler: ImportJobScheduler) {
  const service = new ImportsService(new ImportsRepository(databases.sandbox(sandbox)), {
    principal: { sandbox, role: 'editor', keyId: 'key_1' },
    now: () => new Date(),
    scheduler,
  });
  const { id } = await service.start({ source: 'marketo', instance: '111-AAA-111', entity: 'activities' });
  await service.uploadChunk(id, 0, 'activityDate,activityTypeId,leadId\n');
  return { id, complete: () => service.completeUpload(id, 1) };
}

/** An import queued with its job written by `scheduler`. */
async function queuedImport(databases: Databases, sandbox: string, scheduler: ImportJobScheduler): Promise<string> {
  const upload = await uploadedImport(databases, sandbox, scheduler);
  await upload.complete();
  return upload.id;
}

/** An import queued by a process that died before it wrote the job: stuck QUEUED. */
async function stuckImport(databases: Databases, sandbox: string): Promise<string> {
  const upload = await uploadedImport(databases, sandbox, crashing);
  await expect(upload.complete()).rejects.toThrow('process killed before the job was scheduled');
  return upload.id;
}

const importJobs = (databases: Databases) =>
  databases.platform().collection(JOBS_COLLECTION).find({ name: IMPORT_JOB_NAME }).toArray();

async function platformWithSandboxes(name: string, sandboxes: string[]): Promise<Databases> {
  const databases = createDatabases(client, `${PREFIX}${name}_`);
  const tenancy = new TenancyRepository(databases.platform());
  for (const sandbox of sandboxes) await tenancy.insertSandbox({ _id: sandbox, createdAt: new Date(), createdBy: null });
  return databases;
}

describe('the import sweep', () => {
  it('schedules one job for each import stuck QUEUED, in every live sandbox, and nothing on the next sweep', async () => {
    const databases = await platformWithSandboxes('a', ['alpha', 'beta', 'gone']);
    const scheduler = createImportJobScheduler(databases);
    const stuckAlpha = await stuckImport(databases, 'alpha');
    const stuckBeta = await stuckImport(databases, 'beta');
    const inGone = await stuckImport(databases, 'gone');
    const withJob = await queuedImport(databases, 'alpha', scheduler);
    for (const [sandbox, id] of [['alpha', stuckAlpha], ['beta', stuckBeta], ['gone', inGone]] as const) {
      expect(await new ImportsRepository(databases.sandbox(sandbox)).findById(id)).toMatchObject({ status: 'QUEUED' });
    }
    // Deleted after its import got stuck: the sweep must leave it alone.
    await new TenancyRepository(databases.platform()).markSandboxDeleted('gone', new Date());
    expect((await importJobs(databases)).map((job) => job.data.importId)).toEqual([withJob]);

    const deps = { databases, logger: silentLogger, schedule: (payload: Parameters<ImportJobScheduler['schedule']>[0]) => scheduler.schedule(payload) };
    // Under a minute old: not stuck yet.
    expect(await sweepQueuedImports({ ...deps, now: () => new Date() })).toEqual([]);

    const later = () => new Date(Date.now() + 2 * 60_000);
    const swept = await sweepQueuedImports({ ...deps, now: later });
    expect(swept).toEqual([
      { sandbox: 'alpha', importId: stuckAlpha },
      { sandbox: 'beta', importId: stuckBeta },
    ]);
    expect(await sweepQueuedImports({ ...deps, now: later })).toEqual([]);

    const jobs = await importJobs(databases);
    expect(jobs.map((job) => job.data.importId).sort()).toEqual([stuckAlpha, stuckBeta, withJob].sort());
    const alphaJob = jobs.find((job) => job.data.importId === stuckAlpha)!;
    expect(alphaJob.data).toEqual({ sandbox: 'alpha', importId: stuckAlpha, principal: { sandbox: 'alpha', role: 'editor', keyId: 'key_1' } });
  });

  it('is registered, repeats every minute on the worker, and schedules a stuck import when it runs', async () => {
    expect(JOBS.map((job) => job.name)).toContain(IMPORT_SWEEP_JOB_NAME);
    const databases = await platformWithSandboxes('b', ['default']);
    const stuck = await stuckImport(databases, 'default');
    const worker = await startWorker({
      databases,
      logger: silentLogger,
      subgraphUrls: { profile: '', account: '', segment: '', destination: '' },
      security: { gatewaySecret: 'x'.repeat(32) },
      jobs: [importSweepJob],
      processEveryMs: 100,
      now: () => new Date(Date.now() + 2 * 60_000),
    });
    try {
      await expect.poll(async () => (await importJobs(databases)).map((job) => job.data.importId), { timeout: 15_000, interval: 100 }).toEqual([stuck]);
      const sweep = await databases.platform().collection(JOBS_COLLECTION).findOne({ name: IMPORT_SWEEP_JOB_NAME });
      expect(sweep).toMatchObject({ type: 'single', repeatInterval: '1 minute' });
    } finally {
      await worker.stop();
    }
  });
});
