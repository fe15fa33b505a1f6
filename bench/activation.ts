/**
 * Activation benchmark, in one run (`npm run bench -- activation`):
 *   - Marketo: the backfill of a person audience to a static list, against a mock
 *     instance at the real limits (100 calls in any 20 s, 10 at once, 300 leads a
 *     call), in leads/s against the API's ceiling of 300 x 100 / 20 s = 1,500 leads/s
 *     (goal: at least 90 %, with no 606 or 615 answered). The people come from that
 *     Marketo instance (their lead ids are known), so one call adds 300 leads. The
 *     rate is measured over whole windows: the leads of calls 1 .. 100k over the time
 *     from the first call to call 100k + 1.
 *   - LinkedIn: contact-list requests accepted in one minute against the 600 allowed
 *     (and how many 429s), from connectors sharing the process's call budget.
 *   - Streaming latency: from a membership event appended to the log to its arrival
 *     at a webhook, p50 and p99, with the delivery service running as a worker runs it.
 *
 * MongoDB is MONGODB_URI or, failing that, devdb in a child process.
 *
 *   BENCH_SCALE=0.1 npm run bench -- activation     (one Marketo window, a shorter latency run)
 *
 * Prints a table and writes bench/results/activation.json.
 */
import { randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { MongoClient, type Db } from 'mongodb';
import { DEFAULT_AUDIENCE_SETTINGS } from '../lib/config.js';
import { silentLogger } from '../lib/logger.js';
import { createDatabases, type Databases } from '../lib/mongo/databases.js';
import { createActivationDeliveryService } from '../subgraphs/destination/activations/index.js';
import { ActivationDelivery } from '../subgraphs/destination/activations/activationDelivery.js';
import { ActivationLeasesRepository } from '../subgraphs/destination/activations/activationLeases.repository.js';
import { ActivationsRepository, ZERO_COUNTS } from '../subgraphs/destination/activations/activations.repository.js';
import { createDeliveryEnvironment } from '../subgraphs/destination/activations/deliveryEnvironment.js';
import { createConnector } from '../subgraphs/destination/connectors/index.js';
import { createCredentialsVault } from '../lib/crypto/credentialsVault.js';
import { DestinationsRepository, type DestinationType } from '../subgraphs/destination/destinations.repository.js';
import { MembershipEventsRepository } from '../subgraphs/segment/memberships/membershipEvents.repository.js';
import { MembershipsRepository } from '../subgraphs/segment/memberships/memberships.repository.js';
import { SegmentsRepository } from '../subgraphs/segment/segments.repository.js';
import { startBenchLinkedIn, startBenchMarketo, startBenchWebhook } from './activation/mockDestinations.js';
import { startDevDbChild, stopChild } from './support/processes.js';
import { dropBenchDatabases, machine, mongoSetting, writeResults } from './support/results.js';

const DB_PREFIX = 'benchact_';
const SANDBOX = 'bench';
const MARKETO_CEILING = 1_500;
const LINKEDIN_LIMIT_PER_MINUTE = 600;
const round = (value: number) => Math.round(value * 10) / 10;
const percentile = (sorted: readonly number[], p: number) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!);

interface Fixture {
  databases: Databases;
  db: Db;
  encryptionKey: string;
}

/** People in the stored layout, `count` of them from `start`, each with a Marketo lead of instance `munchkin`. */
async function writePeople(db: Db, prefix: string, start: number, count: number, munchkin: string): Promise<string[]> {
  const ids: string[] = [];
  for (let from = 0; from < count; from += 5_000) {
    const docs = Array.from({ length: Math.min(5_000, count - from) }, (_, k) => {
      const i = start + from + k;
      const id = `${prefix}${String(i).padStart(7, '0')}`;
      ids.push(id);
      return { _id: id, identityKeys: [`Email:${id}@bench.example`, `b2b_person:${10_000 + i}@${munchkin}.Marketo`], linkKeys: [`id:${id}`], workEmail: `${id}@bench.example`, consents: { marketingEmail: 'y' } };
    });
    await db.collection('people').insertMany(docs as never[]);
  }
  return ids;
}

async function segmentWithMembers(db: Db, name: string, memberIds: readonly string[]): Promise<string> {
  const id = `seg_bench${name}`;
  const now = new Date();
  await new SegmentsRepository(db).insert({ id, name, description: null, expression: 'exists(workEmail)', targetEntity: 'PERSON', dependsOn: [], createdAt: now, updatedAt: now });
  const memberships = new MembershipsRepository(db);
  await memberships.ensureIndexes();
  for (let from = 0; from < memberIds.length; from += 5_000) {
    await memberships.applyTransitions(memberIds.slice(from, from + 5_000).map((memberId) => ({ kind: 'enter' as const, from: null, segmentId: id, memberId, memberType: 'PERSON' as const, runId: 'run_bench', at: now })));
  }
  return id;
}

async function activate(fixture: Fixture, input: { type: DestinationType; name: string; config: Record<string, string>; credentials: Record<string, string>; segmentId: string; schedule: string; options: Record<string, string | number> }): Promise<string> {
  const now = new Date();
  const vault = createCredentialsVault(fixture.encryptionKey);
  const destinationId = `dst_bench${input.name}`;
  await new DestinationsRepository(fixture.db).insert({ id: destinationId, type: input.type, name: input.name, config: input.config, credentialsUpdatedAt: now, createdAt: now, updatedAt: now }, vault.seal(input.credentials));
  const id = `act_bench${input.name}`;
  await new ActivationsRepository(fixture.db).insert({
    id, segmentId: input.segmentId, destinationId, destinationType: input.type, memberType: 'PERSON', schedule: input.schedule, mapping: [], options: input.options,
    status: 'ACTIVE', removeMembers: false, position: await new MembershipEventsRepository(fixture.db).lastPosition(),
    backfill: { done: false, after: null, runId: `run_bench${input.name}`, sequence: 0, notBefore: now }, removal: null, inflight: null, lastRun: null,
    totals: { ...ZERO_COUNTS }, blocked: null, leaseEpoch: 0, fileRunId: null, createdAt: now, updatedAt: now, deactivatedAt: null,
  });
  await new ActivationLeasesRepository(fixture.databases.platform()).register(SANDBOX, id, input.schedule === 'STREAMING');
  return id;
}

async function marketoThroughput(fixture: Fixture, scale: number) {
  const windows = Math.max(1, Math.round(2 * scale));
  const calls = 100 * windows + 1;
  const marketo = await startBenchMarketo();
  try {
    const munchkin = new URL(marketo.restUrl).host.split('.')[0]!;
    console.log(`Marketo: ${calls * 300} people in an audience, backfilled to a list at the real limits (${windows} window(s) of 20 s)...`);
    const people = await writePeople(fixture.db, 'mk', 0, calls * 300, munchkin);
    const segmentId = await segmentWithMembers(fixture.db, 'marketo', people);
    const activationId = await activate(fixture, { type: 'MARKETO', name: 'marketo', config: { restUrl: marketo.restUrl, identityUrl: marketo.identityUrl }, credentials: { clientId: 'bench', clientSecret: 'bench' }, segmentId, schedule: '0 6 * * *', options: { listId: 1 } });
    const env = createDeliveryEnvironment({ databases: fixture.databases, encryptionKey: fixture.encryptionKey, logger: silentLogger });
    const lease = await new ActivationLeasesRepository(fixture.databases.platform()).claim(SANDBOX, activationId, 'bench', new Date(), new Date(Date.now() + 3_600_000));
    const delivery = new ActivationDelivery(env, SANDBOX, activationId, lease!.epoch);
    await delivery.fence();
    const started = performance.now();
    const result = await delivery.drain();
    const seconds = (performance.now() - started) / 1000;
    const measured = marketo.state.calls.slice(0, calls);
    const windowLeads = measured.slice(0, calls - 1).reduce((sum, call) => sum + call.leads, 0);
    const windowSeconds = (measured.at(-1)!.at - measured[0]!.at) / 1000;
    const leadsPerSecond = windowLeads / windowSeconds;
    return {
      leads: people.length,
      delivered: result.counts.delivered,
      listed: marketo.state.listed.size,
      calls: marketo.state.calls.length,
      windows,
      leadsPerSecond: round(leadsPerSecond),
      ofCeiling: round((100 * leadsPerSecond) / MARKETO_CEILING),
      wholeRunLeadsPerSecond: round(result.counts.delivered / seconds),
      refused: marketo.state.refused,
    };
  } finally {
    await marketo.close();
  }
}

async function linkedinRate(fixture: Fixture) {
  const linkedin = await startBenchLinkedIn();
  try {
    const env = createDeliveryEnvironment({ databases: fixture.databases, encryptionKey: fixture.encryptionKey, logger: silentLogger });
    // Several connectors, as several activations of one LinkedIn member would have, sharing one budget.
    const connectors = Array.from({ length: 4 }, () => createConnector({ type: 'LINKEDIN', config: { apiUrl: linkedin.apiUrl, adAccount: '507404993' }, credentials: { accessToken: 'bench' } }, env.connectorDeps));
    console.log('LinkedIn: one-contact batches from 4 connectors for 60 s...');
    const started = Date.now();
    const until = started + 60_000;
    let failed = 0;
    let sent = 0;
    await Promise.all(
      connectors.map(async (connector, index) => {
        while (Date.now() < until) {
          const outcome = await connector.deliver({
            activationId: `act_li${index}`, segmentId: 'seg_li', runId: `run_${sent}`, memberType: 'PERSON', mapping: [], options: { dmpSegmentId: '901' },
            adds: [{ memberId: `m${sent++}`, memberType: 'PERSON', identities: { email: `m${sent}@bench.example` }, attributes: {}, consentMarketingEmail: 'y' }], removes: [],
          });
          failed += outcome.counts.failed;
        }
      }),
    );
    const inFirstMinute = linkedin.state.accepted.filter((at) => at < started + 60_000).length;
    return { requestsInOneMinute: inFirstMinute, ofLimit: round((100 * inFirstMinute) / LINKEDIN_LIMIT_PER_MINUTE), refused429: linkedin.state.refused429, failed };
  } finally {
    await linkedin.close();
  }
}

async function streamingLatency(fixture: Fixture, scale: number) {
  const webhook = await startBenchWebhook();
  const seconds = Math.max(5, Math.round(30 * scale));
  const perSecond = 10;
  const probes = await writePeople(fixture.db, 'lt', 0, seconds * perSecond, 'none');
  const segmentId = await segmentWithMembers(fixture.db, 'latency', []);
  await activate(fixture, { type: 'WEBHOOK', name: 'latency', config: { url: webhook.url }, credentials: { signingSecret: 'bench' }, segmentId, schedule: 'STREAMING', options: {} });
  const service = await createActivationDeliveryService({ leaseMs: 5_000 }).start({
    databases: fixture.databases, logger: silentLogger, now: () => new Date(), audiences: DEFAULT_AUDIENCE_SETTINGS,
    subgraphUrls: { profile: '', account: '', segment: '', destination: '' }, security: { gatewaySecret: 'b'.repeat(32), encryptionKey: fixture.encryptionKey },
  });
  try {
    const events = new MembershipEventsRepository(fixture.db);
    await events.ensureIndexes();
    // The backfill (an empty audience) runs first; then each probe enters on its own.
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
      const activation = await new ActivationsRepository(fixture.db).find('act_benchlatency');
      if (activation?.backfill.done) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    console.log(`Streaming: ${probes.length} membership events over ${seconds} s, each timed to its arrival at a webhook...`);
    const sentAt = new Map<string, number>();
    const base = performance.now();
    for (const [index, memberId] of probes.entries()) {
      const wait = base + index * (1000 / perSecond) - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      sentAt.set(memberId, performance.now());
      await events.append([{ segmentId, memberId, memberType: 'PERSON', status: 'realized', occurredAt: new Date(), cause: { kind: 'batch', runId: `run_probe${index}` } }]);
    }
    for (const deadline = Date.now() + 60_000; webhook.arrivals.size < probes.length && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 100));
    const latencies = [...sentAt].flatMap(([memberId, at]) => (webhook.arrivals.has(memberId) ? [webhook.arrivals.get(memberId)! - at] : [])).sort((a, b) => a - b);
    return { probes: probes.length, arrived: latencies.length, p50Ms: round(percentile(latencies, 50)), p99Ms: round(percentile(latencies, 99)), maxMs: round(latencies.at(-1) ?? NaN) };
  } finally {
    await service.stop();
    await webhook.close();
  }
}

export async function run(): Promise<unknown> {
  const scale = Number(process.env.BENCH_SCALE ?? 1);
  const children: ChildProcess[] = [];
  let client: MongoClient | undefined;
  try {
    const uri = process.env.MONGODB_URI ?? (await startDevDbChild(children));
    client = new MongoClient(uri);
    await client.connect();
    const databases = createDatabases(client, DB_PREFIX);
    const fixture: Fixture = { databases, db: databases.sandbox(SANDBOX), encryptionKey: randomBytes(32).toString('hex') };

    const marketo = await marketoThroughput(fixture, scale);
    const linkedin = await linkedinRate(fixture);
    const latency = await streamingLatency(fixture, scale);

    console.table([
      {
        'Marketo leads/s (ceiling 1,500)': marketo.leadsPerSecond,
        '% of ceiling (goal >= 90)': marketo.ofCeiling,
        'Marketo 606s': marketo.refused.rate606,
        'Marketo 615s': marketo.refused.concurrency615,
        'LinkedIn req/min (limit 600)': linkedin.requestsInOneMinute,
        'LinkedIn 429s': linkedin.refused429,
        'event->delivery p50 ms': latency.p50Ms,
        'p99 ms': latency.p99Ms,
      },
    ]);
    const document = {
      benchmark: 'activation',
      date: new Date().toISOString(),
      machine: machine(),
      settings: { scale, mongo: mongoSetting() },
      marketo,
      linkedin,
      latency,
    };
    await writeResults('activation', document);
    return document;
  } finally {
    if (client) {
      await dropBenchDatabases(client, DB_PREFIX);
      await client.close();
    }
    for (const child of children) await stopChild(child).catch(() => undefined);
  }
}
