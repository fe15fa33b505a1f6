/**
 * The merge policy sweep: a policy stored by a process that died before it created the run, or
 * a run left QUEUED without its job, gets exactly one run and one job; nothing on the next sweep.
 */
import type { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOBS_COLLECTION } from '../../lib/jobs.js';
import { silentLogger } from '../../lib/logger.js';
import { createDatabases } from '../../lib/mongo/databases.js';
import { TenancyRepository } from '../../lib/tenancy/tenancy.repository.js';
import { MergePolicyRunsRepository } from '../../subgraphs/profile/mergePolicy/mergePolicyRuns.repository.js';
import { createMergePolicyRunScheduler, MERGE_POLICY_JOB_NAME } from '../../subgraphs/profile/mergePolicy/mergePolicyScheduler.js';
import { sweepMergePolicyRuns } from '../../subgraphs/profile/mergePolicy/mergePolicySweep.job.js';
import { SettingsRepository } from '../../subgraphs/profile/settings.repository.js';
import { connectTestClient, dropDatabasesWithPrefix, uniqueName } from '../support/mongo.js';

const PREFIX = uniqueName('mpsweep_');
let client: MongoClient;

beforeAll(async () => {
  client = await connectTestClient();
});
afterAll(async () => {
  await dropDatabasesWithPrefix(client, PREFIX);
  await client?.close();
});

describe('the merge policy sweep', () => {
  it('creates the missing run of a stored policy and schedules runs left without a job, once', async () => {
    const databases = createDatabases(client, `${PREFIX}_`);
    const tenancy = new TenancyRepository(databases.platform());
    for (const sandbox of ['alpha', 'beta']) await tenancy.insertSandbox({ _id: sandbox, createdAt: new Date(), createdBy: null });
    const now = new Date('2026-03-01T12:00:00Z');
    // alpha: the policy was stored, then the process died.
    await new SettingsRepository(databases.sandbox('alpha')).setMergePolicy({ kind: 'SOURCE_PRIORITY', sourcePriority: ['Salesforce'], updatedAt: now });
    // beta: the run was created too, but not its job.
    const beta = await new SettingsRepository(databases.sandbox('beta')).setMergePolicy({ kind: 'TIMESTAMP_ORDERED', sourcePriority: [], updatedAt: now });
    await new MergePolicyRunsRepository(databases.sandbox('beta')).insertQueued({ policyVersion: beta.version, policy: { kind: beta.kind, sourcePriority: [] }, now });

    const deps = { databases, logger: silentLogger, scheduler: createMergePolicyRunScheduler(databases) };
    const first = await sweepMergePolicyRuns({ ...deps, now: () => new Date(now.getTime() + 61_000) });
    expect(first).toEqual([
      { sandbox: 'alpha', runId: 'mpr_1' },
      { sandbox: 'beta', runId: 'mpr_1' },
    ]);
    expect(await new MergePolicyRunsRepository(databases.sandbox('alpha')).findById('mpr_1')).toMatchObject({ status: 'QUEUED', policyVersion: 1, policy: { kind: 'SOURCE_PRIORITY' } });
    expect(await sweepMergePolicyRuns({ ...deps, now: () => new Date(now.getTime() + 122_000) })).toEqual([]);
    expect(await databases.platform().collection(JOBS_COLLECTION).countDocuments({ name: MERGE_POLICY_JOB_NAME })).toBe(2);
  });
});
