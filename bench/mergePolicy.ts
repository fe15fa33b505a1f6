/**
 * Merge policy benchmark (`npm run bench -- mergePolicy`): setMergePolicy on 100,000 profiles
 * (two source records each, so every profile changes under the new policy), measured in one run:
 *   - the mutation's answer time, against a plain `{ mergePolicy }` query on the same subgraph
 *     (the baseline: what any request costs here);
 *   - the recompute run that follows on a worker: its duration and profiles per second.
 *
 * MongoDB is MONGODB_URI or, failing that, devdb in a child process.
 *
 *   BENCH_SCALE=0.05 npm run bench -- mergePolicy     (a quick run at 5 % of the size)
 *
 * Prints a table and writes bench/results/mergePolicy.json.
 */
import { randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { MongoClient } from 'mongodb';
import { createGatewayTokenSigner, GATEWAY_TOKEN_HEADER } from '../lib/auth/gatewayToken.js';
import { silentLogger } from '../lib/logger.js';
import { createDatabases } from '../lib/mongo/databases.js';
import { createIdGenerator } from '../lib/subgraph/ids.js';
import { startWorker } from '../jobs/worker.js';
import { FragmentsRepository } from '../subgraphs/profile/fragments.repository.js';
import { createMergePolicyJob } from '../subgraphs/profile/mergePolicy/mergePolicy.job.js';
import { PeopleRepository } from '../subgraphs/profile/people.repository.js';
import { buildProfile, DEFAULT_MERGE_POLICY, type Fragment } from '../subgraphs/profile/profileView.js';
import { startProfileSubgraph } from '../subgraphs/profile/server.js';
import { dropBenchDatabases, machine, mongoSetting, writeResults } from './support/results.js';
import { startDevDbChild, stopChild } from './support/processes.js';

const DB_PREFIX = 'benchmp_';
const SANDBOX = 'bench';
const SEED_BATCH = 1_000;
const BASELINE_REQUESTS = 20;

/** `count` profiles, each of a Salesforce record (CFO, older) and a Marketo one (CEO, newer), stored as the identity graph stores them. */
async function seed(people: PeopleRepository, fragments: FragmentsRepository, count: number): Promise<void> {
  const ids = createIdGenerator();
  const at = new Date(Date.UTC(2026, 0, 1));
  for (let first = 0; first < count; first += SEED_BATCH) {
    const batchFragments: Fragment[] = [];
    const profiles = [];
    for (let i = first; i < Math.min(count, first + SEED_BATCH); i++) {
      const profileId = ids('prof');
      const email = { namespace: 'Email', value: `p${i}@bench.example`, addedAt: at };
      const pair: Fragment[] = [
        { id: `b2b_person:${i}@00D5e000001XyZ.Salesforce`, sourceKey: `${i}@00D5e000001XyZ.Salesforce`, profileId, createdAt: at, updatedAt: at,
          identities: [{ namespace: 'b2b_person', value: `${i}@00D5e000001XyZ.Salesforce`, addedAt: at }, email],
          values: [{ path: 'jobTitle', value: 'CFO', at: new Date(Date.UTC(2026, 0, 10)) }, { path: 'workEmail', value: email.value, at }] },
        { id: `b2b_person:${i}@123-ABC-456.Marketo`, sourceKey: `${i}@123-ABC-456.Marketo`, profileId, createdAt: at, updatedAt: at,
          identities: [{ namespace: 'b2b_person', value: `${i}@123-ABC-456.Marketo`, addedAt: at }, email],
          values: [{ path: 'jobTitle', value: 'CEO', at: new Date(Date.UTC(2026, 0, 20)) }, { path: 'firstName', value: `P${i}`, at }] },
      ];
      batchFragments.push(...pair);
      profiles.push(buildProfile({ id: profileId, absorbedIds: [], createdAt: at, updatedAt: at }, pair, DEFAULT_MERGE_POLICY));
    }
    await fragments.write(batchFragments);
    await people.save(profiles);
  }
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

export async function run(): Promise<void> {
  const scale = Number(process.env.BENCH_SCALE ?? 1);
  const count = Math.max(1_000, Math.round(100_000 * scale));
  const children: ChildProcess[] = [];
  const mongoUri = process.env.MONGODB_URI ?? (await startDevDbChild(children));
  const client = new MongoClient(mongoUri);
  await client.connect();
  await dropBenchDatabases(client, DB_PREFIX);
  const databases = createDatabases(client, DB_PREFIX);
  const db = databases.sandbox(SANDBOX);
  const people = new PeopleRepository(db);
  const fragments = new FragmentsRepository(db);
  await Promise.all([people.ensureIndexes(), fragments.ensureIndexes()]);

  const seedStart = performance.now();
  await seed(people, fragments, count);
  console.log(`Seeded ${count.toLocaleString('en-US')} profiles in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`);

  const gatewaySecret = randomBytes(32).toString('base64url');
  const subgraph = await startProfileSubgraph({ databases, security: { gatewaySecret, encryptionKey: randomBytes(32).toString('hex') }, port: 0, logger: silentLogger });
  const signer = createGatewayTokenSigner(gatewaySecret);
  const ask = async (query: string) => {
    const started = performance.now();
    const response = await fetch(subgraph.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [GATEWAY_TOKEN_HEADER]: await signer.sign({ sandbox: SANDBOX, role: 'admin' }) },
      body: JSON.stringify({ query }),
    });
    const body = (await response.json()) as { data?: any; errors?: unknown[] };
    if (body.errors) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
    return { data: body.data, ms: performance.now() - started };
  };

  let worker: Awaited<ReturnType<typeof startWorker>> | undefined;
  try {
    await ask('{ mergePolicy { kind } }');
    const baseline: number[] = [];
    for (let i = 0; i < BASELINE_REQUESTS; i++) baseline.push((await ask('{ mergePolicy { kind version } }')).ms);
    baseline.sort((a, b) => a - b);

    // No worker yet: the answer is all the mutation does.
    const answer = await ask('mutation { setMergePolicy(input: { kind: SOURCE_PRIORITY, sourcePriority: ["Salesforce"] }) { version recompute { id status } } }');
    const runId: string = answer.data.setMergePolicy.recompute.id;

    worker = await startWorker({
      databases,
      logger: silentLogger,
      subgraphUrls: { profile: '', account: '', segment: '', destination: '' },
      security: { gatewaySecret },
      jobs: [createMergePolicyJob()],
      services: [],
      processEveryMs: 200,
    });
    let runDoc: any;
    for (;;) {
      runDoc = (await ask(`{ mergePolicyRun(id: "${runId}") { status profilesDone profilesChanged profilesTotal pagesDone } }`)).data.mergePolicyRun;
      if (runDoc.status !== 'QUEUED' && runDoc.status !== 'RUNNING') break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const stored = await db.collection('mergePolicyRuns').findOne({ _id: runId as never });
    const runSeconds = (stored!.finishedAt.getTime() - stored!.startedAt.getTime()) / 1000;
    const result = {
      profiles: count,
      answerMs: Math.round(answer.ms),
      baselineQueryMsP50: Math.round(percentile(baseline, 50) * 10) / 10,
      answerVsBaseline: Math.round((answer.ms / percentile(baseline, 50)) * 10) / 10,
      runStatus: runDoc.status,
      runSeconds: Math.round(runSeconds * 10) / 10,
      profilesPerSecond: Math.round(runDoc.profilesDone / runSeconds),
      profilesChanged: runDoc.profilesChanged,
      pages: runDoc.pagesDone,
    };
    console.table([result]);
    await writeResults('mergePolicy', { benchmark: 'mergePolicy', at: new Date().toISOString(), machine: machine(), mongo: mongoSetting(), scale, result });
  } finally {
    await worker?.stop(5_000);
    await subgraph.stop();
    await dropBenchDatabases(client, DB_PREFIX).catch(() => undefined);
    await client.close();
    for (const child of children) await stopChild(child);
  }
}
