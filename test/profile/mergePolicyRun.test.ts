/**
 * setMergePolicy as a job: the mutation answers with its run queued, before any stored
 * profile is rewritten; the API serves the new policy at once while each stored profile
 * stays under the one policy it records; the run finishes page by page; and a worker
 * killed mid-run is taken over and the run finishes without redoing finished pages.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../lib/logger.js';
import { startWorker, type RunningWorker } from '../../jobs/worker.js';
import { createMergePolicyJob } from '../../subgraphs/profile/mergePolicy/mergePolicy.job.js';
import { mongoUri } from '../support/mongo.js';
import { killWorkerProcess, workerProcesses } from '../support/workerProcess.js';
import { PAGES_COLLECTION, WORKER_PAGE_SIZE } from './support/mergePolicyPages.js';
import { startProfileSuite, type ProfileSuite } from './support.js';

const PEOPLE = 300;
const SET = `mutation($input: MergePolicyInput!) { setMergePolicy(input: $input) { kind sourcePriority version recompute { id status policyVersion profilesDone } } }`;
const RUN = `query($id: ID!) { mergePolicyRun(id: $id) { id status policyVersion kind sourcePriority profilesTotal profilesDone profilesChanged pagesDone failure } }`;
const WORKER = fileURLToPath(new URL('./support/mergePolicyWorker.ts', import.meta.url));

let p: ProfileSuite;
const workers = workerProcesses();
let worker: RunningWorker | undefined;

beforeAll(async () => {
  p = await startProfileSuite();
});
// Every test's workers stop with it: one left running would take the next test's run.
afterEach(async () => {
  await workers.killAll();
  await worker?.stop(2_000);
  worker = undefined;
});
afterAll(async () => {
  await p?.stop();
});

/** PEOPLE people, each from Salesforce (CFO) and, more recently, Marketo (CEO): CEO by time, CFO by Salesforce priority. */
async function seed(sandbox: string): Promise<void> {
  const records = Array.from({ length: PEOPLE }, (_, i) => [
    { sourceKey: `${i}@00D5e000001XyZ.Salesforce`, workEmail: `p${i}@policy.example`, jobTitle: 'CFO', sourceUpdatedAt: '2026-01-10T00:00:00Z' },
    { sourceKey: `${i}@123-ABC-456.Marketo`, workEmail: `p${i}@policy.example`, jobTitle: 'CEO', sourceUpdatedAt: '2026-01-20T00:00:00Z' },
  ]).flat();
  for (let at = 0; at < records.length; at += 1000) await p.upsert(sandbox, records.slice(at, at + 1000));
}

const stored = (sandbox: string) =>
  p.suite.databases
    .sandbox(sandbox)
    .collection('people')
    .find({}, { projection: { jobTitle: 1, policyVersion: 1 } })
    .toArray();

const runOf = async (sandbox: string, id: string) => (await p.gql(sandbox, RUN, { id })).mergePolicyRun;

const startWorkerProcess = (prefix: string, name: string, stopAfterPages: number) => workers.start(WORKER, { uri: mongoUri(), prefix, name, args: [String(stopAfterPages)] });

function startInProcessWorker(afterPage: (page: { pagesDone: number }) => Promise<void>): Promise<RunningWorker> {
  return startWorker({
    databases: p.suite.databases,
    logger: silentLogger,
    subgraphUrls: { profile: '', account: '', segment: '', destination: '' },
    security: { gatewaySecret: 'w'.repeat(32) },
    jobs: [createMergePolicyJob({ pageSize: WORKER_PAGE_SIZE, afterPage })],
    services: [],
    processEveryMs: 100,
  });
}

describe('setMergePolicy as a job', { timeout: 120_000 }, () => {
  it('answers with the run queued, serves the new policy at once, keeps every stored profile under one policy, and finishes', async () => {
    const sb = p.sandbox();
    await seed(sb);
    const title = async (i: number) => (await p.gql(sb, `{ profileByIdentity(namespace: "Email", value: "p${i}@policy.example") { jobTitle } }`)).profileByIdentity.jobTitle;
    expect(await title(PEOPLE - 1)).toBe('CEO');

    // No worker yet: the answer cannot have waited for the recompute.
    const { setMergePolicy } = await p.gql(sb, SET, { input: { kind: 'SOURCE_PRIORITY', sourcePriority: ['Salesforce'] } });
    expect(setMergePolicy).toMatchObject({ kind: 'SOURCE_PRIORITY', version: 1, recompute: { status: 'QUEUED', policyVersion: 1, profilesDone: 0 } });
    const runId: string = setMergePolicy.recompute.id;
    expect((await p.gql(sb, `{ mergePolicy { version recompute { id } } }`)).mergePolicy).toEqual({ version: 1, recompute: { id: runId } });

    // Read through the API, every profile is under the new policy already; stored, each is still under the old one.
    expect(await title(PEOPLE - 1)).toBe('CFO');
    const page = (await p.gql(sb, `{ profiles(first: 500) { edges { node { jobTitle } } } }`)).profiles.edges;
    expect(new Set(page.map((edge: any) => edge.node.jobTitle))).toEqual(new Set(['CFO']));
    expect(await stored(sb)).toHaveLength(PEOPLE);
    expect((await stored(sb)).filter((doc) => !(doc.jobTitle === 'CEO' && (doc.policyVersion ?? 0) === 0))).toEqual([]);

    // A worker that holds after its second page, so the run is seen midway.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    worker = await startInProcessWorker(async ({ pagesDone }) => {
      if (pagesDone === 2) await gate;
    });
    await expect.poll(async () => (await runOf(sb, runId)).pagesDone, { timeout: 30_000, interval: 50 }).toBe(2);
    const midway = await runOf(sb, runId);
    expect(midway).toMatchObject({ status: 'RUNNING', profilesTotal: PEOPLE, profilesDone: 2 * WORKER_PAGE_SIZE });
    const docs = await stored(sb);
    // Each stored profile is wholly under one policy: the new one with CFO, or the old one with CEO.
    expect(docs.filter((doc) => !((doc.policyVersion === 1 && doc.jobTitle === 'CFO') || ((doc.policyVersion ?? 0) === 0 && doc.jobTitle === 'CEO')))).toEqual([]);
    expect(docs.filter((doc) => doc.policyVersion === 1)).toHaveLength(2 * WORKER_PAGE_SIZE);

    release();
    await expect.poll(async () => (await runOf(sb, runId)).status, { timeout: 60_000, interval: 100 }).toBe('SUCCEEDED');
    expect(await runOf(sb, runId)).toMatchObject({
      kind: 'SOURCE_PRIORITY',
      sourcePriority: ['Salesforce'],
      profilesTotal: PEOPLE,
      profilesDone: PEOPLE,
      profilesChanged: PEOPLE,
      pagesDone: Math.ceil(PEOPLE / WORKER_PAGE_SIZE),
      failure: null,
    });
    expect(await stored(sb)).toHaveLength(PEOPLE);
    expect((await stored(sb)).filter((doc) => !(doc.policyVersion === 1 && doc.jobTitle === 'CFO'))).toEqual([]);
    await worker.stop(2_000);
    worker = undefined;
  });

  it('a newer policy supersedes a run that has not finished, and the newer run brings every profile under it', async () => {
    const sb = p.sandbox();
    await seed(sb);
    const first = (await p.gql(sb, SET, { input: { kind: 'SOURCE_PRIORITY', sourcePriority: ['Salesforce'] } })).setMergePolicy.recompute.id;
    const second = (await p.gql(sb, SET, { input: { kind: 'TIMESTAMP_ORDERED' } })).setMergePolicy.recompute.id;
    expect(second).not.toBe(first);
    worker = await startInProcessWorker(async () => undefined);
    await expect.poll(async () => (await runOf(sb, second)).status, { timeout: 60_000, interval: 100 }).toBe('SUCCEEDED');
    expect((await runOf(sb, first)).status).toBe('SUPERSEDED');
    expect(await stored(sb)).toHaveLength(PEOPLE);
    expect((await stored(sb)).filter((doc) => !(doc.policyVersion === 2 && doc.jobTitle === 'CEO'))).toEqual([]);
    await worker.stop(2_000);
    worker = undefined;
  });

  it('a worker killed mid-run is taken over, and the run finishes without redoing finished pages', async () => {
    const sb = p.sandbox();
    await seed(sb);
    const prefix = `${p.suite.prefix}_`;
    const first = await startWorkerProcess(prefix, 'worker-1', 3);
    const runId: string = (await p.gql(sb, SET, { input: { kind: 'SOURCE_PRIORITY', sourcePriority: ['Salesforce'] } })).setMergePolicy.recompute.id;
    const pages = p.suite.databases.platform().collection(PAGES_COLLECTION);
    await expect.poll(() => pages.countDocuments({ worker: 'worker-1', runId }), { timeout: 30_000, interval: 50 }).toBe(3);
    await expect.poll(async () => (await runOf(sb, runId)).pagesDone, { timeout: 10_000, interval: 50 }).toBe(3);
    expect(await runOf(sb, runId)).toMatchObject({ status: 'RUNNING', profilesDone: 3 * WORKER_PAGE_SIZE });
    await killWorkerProcess(first);

    await startWorkerProcess(prefix, 'worker-2', 0);
    await expect.poll(async () => (await runOf(sb, runId)).status, { timeout: 60_000, interval: 100 }).toBe('SUCCEEDED');
    const total = Math.ceil(PEOPLE / WORKER_PAGE_SIZE);
    expect(await runOf(sb, runId)).toMatchObject({ profilesDone: PEOPLE, profilesChanged: PEOPLE, pagesDone: total });
    // The second worker started after the dead one's last checkpoint and did each remaining page once.
    const taken = (await pages.find({ worker: 'worker-2', runId }).toArray()).map((doc) => doc.pagesDone as number);
    expect(taken).toEqual(Array.from({ length: total - 3 }, (_, i) => i + 4));
    expect(await stored(sb)).toHaveLength(PEOPLE);
    expect((await stored(sb)).filter((doc) => !(doc.policyVersion === 1 && doc.jobTitle === 'CFO'))).toEqual([]);
  });
});
