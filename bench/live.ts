/**
 * Live audiences benchmark: how long a membership change takes from the write
 * that records it to a graphql-ws subscriber of the gateway, at a steady rate
 * with many subscribers, against a floor measured in the same run: a raw driver
 * insert seen through one change stream and sent over a plain websocket. Then
 * the memory an idle subscription costs.
 *
 *   npm run bench -- live
 *   BENCH_SCALE=0.2 npm run bench -- live          (a quick run: a fifth of the rate, subscribers and time)
 *   BENCH_RATE=1500 BENCH_SUBSCRIBERS=100 BENCH_SEGMENTS=10 BENCH_DURATION=10 npm run bench -- live
 *   BENCH_SHARED=0 npm run bench -- live            (every subscriber's request its own: no execution shared)
 *   BENCH_ROUNDS=1 npm run bench -- live            (the floor's whole load, then the gateway's: no turns)
 *
 * Setup: MongoDB (MONGODB_URI, or devdb in a child process); in this process
 * the segment, profile, account and destination subgraphs and the gateway, as
 * `npm start` runs them. Threads play the outside world, so their CPU is not
 * the platform's: the writer (as a streaming evaluator in its own worker
 * process: support/liveWriter.ts) and the subscribers (clients: support/
 * liveSubscribers.ts, one thread for the floor's and one for the gateway's).
 * Subscribers are spread over BENCH_SEGMENTS segments, so each change reaches
 * SUBSCRIBERS / SEGMENTS of them; each selects the event's own fields (no member
 * fetched from other subgraphs). Changes come due at the rate in groups every
 * 10 ms, first for BENCH_WARMUP seconds that are not measured (in its first
 * second of load a freshly started process runs code not yet optimized, floor
 * and gateway alike), then for BENCH_DURATION seconds that are. The floor and
 * the gateway take turns, BENCH_ROUNDS (3) slices each of a share of those
 * seconds, each later slice after a second of unmeasured load (its new writer
 * thread's connection and code), so a stretch of noise on a shared machine
 * falls on both paths rather than on one. One writer stores the changes as the
 * evaluators do (the membership event log's `append`, one batch at a time, each
 * holding what came due meanwhile). Latency is receipt time minus the time the
 * change came due; `stored*` is the part until its write answered. The floor
 * takes the same path minus GraphQL: a plain driver insert, one change stream,
 * a websocket to each subscriber of the segment. The gateway's subscribers
 * subscribe together, so those of one segment share one execution
 * (gateway/live/sharedSubscriptions.ts); with BENCH_SHARED=0 each names its
 * operation differently and none shares. Memory per idle subscriber is the
 * platform's heap growth per subscription (the clients' heap is their thread's
 * own) and the process's RSS growth (clients included), once each has received
 * one event. The idle subscriptions make the same request of a segment that
 * changes once, each resuming from a different cursor, so none shares an
 * execution and none has anything else to replay: what dashboards of a quiet
 * audience opened at different times cost.
 *
 * Goals (issue 12): p99 under 250 ms and under 3x the floor; under 50 KB per idle subscriber.
 * Prints a table and writes bench/results/live.json.
 */
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { MongoClient } from 'mongodb';
import WebSocket, { WebSocketServer } from 'ws';
import { createGraphQLCall } from '../lib/graphqlClient.js';
import { createDatabases } from '../lib/mongo/databases.js';
import { encodeCursor } from '../subgraphs/segment/live/cursor.js';
import { MembershipEventsRepository } from '../subgraphs/segment/memberships/membershipEvents.repository.js';
import { startBenchPlatform } from './support/benchPlatform.js';
import { SubscriberThread, WARM_UP_PREFIX } from './support/liveSubscribers.js';
import { membershipEvent, writeOnThread, type Load } from './support/liveWriter.js';
import { stopChild } from './support/processes.js';
import { writeResults } from './support/results.js';

const SANDBOX = 'benchlive';
const SUBSCRIPTION = 'subscription ($segmentId: ID!, $after: String) { segmentMembershipChanged(segmentId: $segmentId, after: $after) { cursor memberId } }';

interface Settings {
  rate: number;
  subscribers: number;
  segments: number;
  warmUpSeconds: number;
  durationSeconds: number;
  idleSubscribers: number;
  /** Measured slices per path, floor and gateway taking turns. */
  rounds: number;
  /** Whether the subscribers of a segment make the same request (and share its execution) or each its own. */
  shared: boolean;
}

interface LatencyResult {
  name: string;
  changes: number;
  deliveries: number;
  missing: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Of the latency, the part until the change was stored (waiting for the writer included). */
  storedP50Ms: number;
  storedP99Ms: number;
}

function settingsFromEnv(): Settings {
  const scale = Number(process.env.BENCH_SCALE ?? 1);
  if (!(scale > 0)) throw new Error('BENCH_SCALE must be a positive number');
  const number = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
  return {
    rate: Math.max(10, Math.round(number('BENCH_RATE', 1_500) * scale)),
    subscribers: Math.max(2, Math.round(number('BENCH_SUBSCRIBERS', 100) * scale)),
    segments: Math.max(1, number('BENCH_SEGMENTS', 10)),
    warmUpSeconds: Math.max(2, number('BENCH_WARMUP', 3) * scale),
    durationSeconds: Math.max(2, number('BENCH_DURATION', 10) * scale),
    idleSubscribers: Math.max(50, Math.round(number('BENCH_IDLE_SUBSCRIBERS', 2_000) * scale)),
    rounds: Math.max(1, Math.round(number('BENCH_ROUNDS', 3))),
    shared: process.env.BENCH_SHARED !== '0',
  };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function summarize(name: string, loads: Load[], expected: number, latencies: number[]): LatencyResult {
  const sorted = [...latencies].sort((a, b) => a - b);
  const stored = loads.flatMap((load) => load.storedMs).sort((a, b) => a - b);
  const round = (value: number) => Math.round(value * 10) / 10;
  const changes = loads.reduce((sum, load) => sum + load.changes, 0);
  return {
    name,
    changes,
    deliveries: latencies.length,
    missing: expected - latencies.length,
    p50Ms: round(percentile(sorted, 50)),
    p99Ms: round(percentile(sorted, 99)),
    maxMs: round(sorted.at(-1) ?? Number.NaN),
    storedP50Ms: round(percentile(stored, 50)),
    storedP99Ms: round(percentile(stored, 99)),
  };
}

/** One path under test: its subscribers open, it takes measured slices of load, and hands over what they timed. */
interface MeasuredPath {
  /** Runs one slice of the load; answers once every delivery of it has arrived (or stopped coming). */
  slice(warmUpSeconds: number): Promise<void>;
  /** The slices' results; closes the subscribers. */
  finish(): Promise<LatencyResult>;
}

/** The gateway: graphql-ws subscribers of BENCH_SEGMENTS segments, the log written as the evaluators write it. */
async function openGateway(
  settings: Settings,
  subscribers: SubscriberThread,
  gateway: { wsUrl: string; authorization: string },
  target: { mongoUri: string; database: string },
  events: MembershipEventsRepository,
  segmentIds: string[],
): Promise<MeasuredPath> {
  const { wsUrl, authorization } = gateway;
  const after = encodeCursor(await events.lastPosition());
  await subscribers.open({ kind: 'gateway', wsUrl, authorization, query: SUBSCRIPTION, segmentIds, subscribers: settings.subscribers, after, distinct: !settings.shared });
  // One warm-up change per segment proves every subscription is live before the clock starts.
  await events.append(segmentIds.map((segmentId) => membershipEvent(segmentId, `${WARM_UP_PREFIX}-${segmentId}`)));
  await subscribers.live();
  return measuredPath(subscribers, settings, (sliceSettings) => writeOnThread(sliceSettings, { kind: 'log', mongoUri: target.mongoUri, database: target.database, segmentIds }), async () => {
    await subscribers.close();
    return `through the gateway (graphql-ws${settings.shared ? '' : ', nothing shared'})`;
  });
}

/** The floor: insert with the driver, one change stream, a plain websocket per subscriber. */
async function openFloor(settings: Settings, subscribers: SubscriberThread, client: MongoClient, mongoUri: string): Promise<MeasuredPath> {
  const collection = client.db(`benchlive_floor_${Date.now()}`).collection<{ segment: number; member: string; at: number }>('changes');
  const server = createServer();
  const wss = new WebSocketServer({ server });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const bySegment = new Map<number, Set<WebSocket>>();
  wss.on('connection', (socket, request) => {
    const segment = Number(new URL(request.url ?? '/', 'http://x').searchParams.get('segment'));
    const set = bySegment.get(segment) ?? new Set();
    set.add(socket);
    bySegment.set(segment, set);
  });
  const stream = collection.watch([{ $match: { operationType: 'insert' } }]);
  await stream.tryNext();
  const forwarding = (async () => {
    for await (const change of stream) {
      if (change.operationType !== 'insert') continue;
      const message = JSON.stringify({ member: change.fullDocument.member, at: change.fullDocument.at });
      for (const socket of bySegment.get(change.fullDocument.segment) ?? []) socket.send(message);
    }
  })().catch(() => {});

  const { port } = server.address() as AddressInfo;
  await subscribers.open({ kind: 'floor', url: `ws://127.0.0.1:${port}/`, subscribers: settings.subscribers, segments: settings.segments });
  await drained(async () => wss.clients.size, settings.subscribers);
  const target = { kind: 'floor', mongoUri, database: collection.dbName, collection: collection.collectionName } as const;
  return measuredPath(subscribers, settings, (sliceSettings) => writeOnThread(sliceSettings, target), async () => {
    await subscribers.close();
    await stream.close();
    await forwarding;
    wss.close();
    server.close();
    await collection.db.dropDatabase();
    return 'floor: insert, change stream, plain websocket';
  });
}

function measuredPath(subscribers: SubscriberThread, settings: Settings, write: (settings: Settings) => Promise<Load>, close: () => Promise<string>): MeasuredPath {
  const loads: Load[] = [];
  let expected = 0;
  const perChange = settings.subscribers / settings.segments;
  return {
    async slice(warmUpSeconds) {
      const load = await write({ ...settings, warmUpSeconds, durationSeconds: settings.durationSeconds / settings.rounds });
      loads.push(load);
      expected += load.changes * perChange;
      await drained(() => subscribers.count(), expected);
    },
    async finish() {
      const latencies = await subscribers.take();
      const name = await close();
      return summarize(name, loads, expected, latencies);
    },
  };
}

/**
 * The platform's heap and this process's RSS per idle subscription. The clients
 * run on the subscriber thread, whose heap is its own, so the heap growth is
 * the platform's share alone (RSS counts both). Every subscription sends the
 * same document for a segment that changes once, each after a different cursor,
 * so none shares an execution with another and none replays anything but that
 * change: this is the cost of dashboards of a quiet audience opened at
 * different times.
 */
async function measureIdleMemory(
  settings: Settings,
  subscribers: SubscriberThread,
  gateway: { wsUrl: string; authorization: string },
  events: MembershipEventsRepository,
  segments: { idle: string; busy: string },
): Promise<{ subscriptions: number; heapKbPerSubscriber: number; rssKbPerSubscriber: number }> {
  const { wsUrl, authorization } = gateway;
  const gc = collectGarbage();
  const perConnection = 10;
  const subscriptions = Math.ceil(settings.idleSubscribers / perConnection) * perConnection;
  // A distinct cursor for each: the log must hold as many positions (events of another segment).
  const missing = subscriptions - (await events.lastPosition());
  if (missing > 0) await events.append(Array.from({ length: missing }, (_, i) => membershipEvent(segments.busy, `filler-${i}`)));
  const last = await events.lastPosition();
  const afterEach = Array.from({ length: subscriptions }, (_, i) => encodeCursor(last - i));
  // The gateway part's subscriptions were just closed: let them end everywhere, or what they free would be counted off these.
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  await gc();
  const before = process.memoryUsage();
  await subscribers.open({ kind: 'gateway', wsUrl, authorization, query: SUBSCRIPTION, segmentIds: [segments.idle], subscribers: subscriptions, perConnection, afterEach });
  // One event proves every subscription set up end to end (2,000 take seconds to start; half-started ones hold
  // their start's queries and buffers, not what an open subscription keeps). Then they settle.
  await events.append([membershipEvent(segments.idle, `${WARM_UP_PREFIX}-idle`)]);
  await subscribers.live();
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  await gc();
  const after = process.memoryUsage();
  await subscribers.close();
  return {
    subscriptions,
    heapKbPerSubscriber: Math.round((after.heapUsed - before.heapUsed) / subscriptions / 102.4) / 10,
    rssKbPerSubscriber: Math.round((after.rss - before.rss) / subscriptions / 102.4) / 10,
  };
}

function collectGarbage(): () => Promise<void> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  return async () => {
    for (let i = 0; i < 3; i++) {
      gc();
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
}

/** Waits until `count()` reaches `expected`, or until it stops growing for 5 s (what is missing is then reported). */
async function drained(count: () => Promise<number> | number, expected: number): Promise<void> {
  let last = await count();
  let lastChange = Date.now();
  while (last < expected && Date.now() - lastChange < 5_000) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const now = await count();
    if (now !== last) {
      last = now;
      lastChange = Date.now();
    }
  }
}

export async function run(): Promise<unknown> {
  const settings = settingsFromEnv();
  const children: ChildProcess[] = [];
  const databasePrefix = `benchlive${Date.now() % 100_000}_`;
  const { platform, mongoUri } = await startBenchPlatform({
    dbPrefix: databasePrefix,
    children,
    env: { CDP_MAX_WS_CONNECTIONS_PER_KEY: '100000', CDP_MAX_SUBSCRIPTIONS_PER_KEY: '1000000' },
  });
  const writer = new MongoClient(mongoUri);
  await writer.connect();
  // The floor's clients and the gateway's on threads of their own: both stay connected while the paths take turns.
  const subscribers = new SubscriberThread();
  const floorSubscribers = new SubscriberThread();
  try {
    const { generatedKey } = await platform.tenancy.bootstrap(SANDBOX);
    const authorization = `Bearer ${generatedKey}`;
    const call = createGraphQLCall(platform.gateway.url, { headers: { authorization } });
    const createSegment = async (name: string) => {
      const { createSegment: created } = await call<{ createSegment: { id: string } }>(
        'mutation ($input: CreateSegmentInput!) { createSegment(input: $input) { id } }',
        { input: { name, expression: 'jobTitle.contains("vp", false)', targetEntity: 'PERSON' } },
      );
      return created.id;
    };
    const segmentIds: string[] = [];
    for (let i = 0; i < settings.segments; i++) segmentIds.push(await createSegment(`bench ${i}`));
    const idleSegmentId = await createSegment('idle');
    const sandboxDb = createDatabases(writer, databasePrefix).sandbox(SANDBOX);
    const sandboxDatabase = sandboxDb.databaseName;
    const events = new MembershipEventsRepository(sandboxDb);
    await events.ensureIndexes();

    console.log(
      `${settings.rate} changes/s for ${settings.durationSeconds} s after ${settings.warmUpSeconds} s of warm-up, in ${settings.rounds} turns of floor and gateway; ${settings.subscribers} subscribers over ${settings.segments} segments`,
    );
    const floorPath = await openFloor(settings, floorSubscribers, writer, mongoUri);
    const gatewayPath = await openGateway(settings, subscribers, { wsUrl: platform.gateway.wsUrl, authorization }, { mongoUri, database: sandboxDatabase }, events, segmentIds);
    // The paths take turns, so a stretch of noise on this shared machine falls on both rather than on one.
    for (let round = 0; round < settings.rounds; round++) {
      // The first turn warms up each path's code; a later one only its new writer thread and connection.
      const warmUpSeconds = round === 0 ? settings.warmUpSeconds : Math.min(1, settings.warmUpSeconds);
      await floorPath.slice(warmUpSeconds);
      await gatewayPath.slice(warmUpSeconds);
    }
    const floor = await floorPath.finish();
    const gateway = await gatewayPath.finish();
    const memory = await measureIdleMemory(settings, subscribers, { wsUrl: platform.gateway.wsUrl, authorization }, events, { idle: idleSegmentId, busy: segmentIds[0]! });

    console.table([floor, gateway]);
    console.log(`p99 through the gateway: ${gateway.p99Ms} ms (goal < 250 ms), ${Math.round((gateway.p99Ms / floor.p99Ms) * 10) / 10}x the floor (goal < 3x)`);
    console.log(`Idle subscriptions: ${memory.subscriptions}; ${memory.heapKbPerSubscriber} KB heap and ${memory.rssKbPerSubscriber} KB RSS each (goal < 50 KB)`);
    const results = { settings, floor, gateway, ratioP99: gateway.p99Ms / floor.p99Ms, idleMemory: memory, at: new Date().toISOString() };
    await writeResults('live', results);
    return results;
  } finally {
    await subscribers.stop();
    await floorSubscribers.stop();
    await writer.db(`${databasePrefix}sb_${SANDBOX}`).dropDatabase().catch(() => {});
    await writer.close();
    await platform.stop();
    for (const child of children) await stopChild(child);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await run();
  process.exit(0);
}
