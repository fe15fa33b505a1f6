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
 *
 * Setup: MongoDB (MONGODB_URI, or devdb in a child process) and, in this
 * process, the segment, profile, account and destination subgraphs, the gateway
 * and the subscribers. Subscribers are spread over BENCH_SEGMENTS segments, so
 * each change reaches SUBSCRIBERS / SEGMENTS of them; each selects the event's
 * own fields (no member fetched from other subgraphs). A change is written the
 * way the evaluators write it (the membership event log's `append`), in batches
 * every 10 ms; latency is receipt time minus the write's start. The floor takes
 * the same path minus GraphQL: insert, change stream, websocket to each
 * subscriber of the segment. Memory per idle subscriber is the heap and RSS
 * growth of this process per subscription opened (both ends of each socket are
 * in this process, so it overstates the server's share).
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
import { createClient, type Client } from 'graphql-ws';
import { MongoClient } from 'mongodb';
import WebSocket, { WebSocketServer } from 'ws';
import { createDatabases } from '../lib/mongo/databases.js';
import { encodeCursor } from '../subgraphs/segment/live/cursor.js';
import { MembershipEventsRepository, type NewMembershipEvent } from '../subgraphs/segment/memberships/membershipEvents.repository.js';
import { startBenchPlatform } from './support/benchPlatform.js';
import { stopChild } from './support/processes.js';
import { writeResults } from './support/results.js';

const SANDBOX = 'benchlive';
const BATCH_INTERVAL_MS = 10;
const SUBSCRIPTION = 'subscription ($segmentId: ID!, $after: String) { segmentMembershipChanged(segmentId: $segmentId, after: $after) { cursor memberId } }';

interface Settings {
  rate: number;
  subscribers: number;
  segments: number;
  durationSeconds: number;
  idleSubscribers: number;
}

interface LatencyResult {
  name: string;
  changes: number;
  deliveries: number;
  missing: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

function settingsFromEnv(): Settings {
  const scale = Number(process.env.BENCH_SCALE ?? 1);
  if (!(scale > 0)) throw new Error('BENCH_SCALE must be a positive number');
  const number = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
  return {
    rate: Math.max(10, Math.round(number('BENCH_RATE', 1_500) * scale)),
    subscribers: Math.max(2, Math.round(number('BENCH_SUBSCRIBERS', 100) * scale)),
    segments: Math.max(1, number('BENCH_SEGMENTS', 10)),
    durationSeconds: Math.max(2, number('BENCH_DURATION', 10) * scale),
    idleSubscribers: Math.max(50, Math.round(number('BENCH_IDLE_SUBSCRIBERS', 2_000) * scale)),
  };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function summarize(name: string, changes: number, expected: number, latencies: number[]): LatencyResult {
  const sorted = [...latencies].sort((a, b) => a - b);
  const round = (value: number) => Math.round(value * 10) / 10;
  return {
    name,
    changes,
    deliveries: latencies.length,
    missing: expected - latencies.length,
    p50Ms: round(percentile(sorted, 50)),
    p99Ms: round(percentile(sorted, 99)),
    maxMs: round(sorted.at(-1) ?? Number.NaN),
  };
}

/** Writes `rate` changes a second for `seconds`, in batches, round-robin over segments; `write` answers when its batch is stored. */
async function steadyLoad(settings: Settings, write: (batch: Array<{ segment: number; member: string }>, startedAt: number) => Promise<void>): Promise<number> {
  const perBatch = Math.max(1, Math.round((settings.rate * BATCH_INTERVAL_MS) / 1_000));
  const batches = Math.round((settings.durationSeconds * 1_000) / BATCH_INTERVAL_MS);
  const writes: Array<Promise<void>> = [];
  const start = performance.now();
  let written = 0;
  for (let i = 0; i < batches; i++) {
    const due = start + i * BATCH_INTERVAL_MS;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const batch = Array.from({ length: perBatch }, (_, j) => ({ segment: (written + j) % settings.segments, member: `m${written + j}` }));
    written += perBatch;
    writes.push(write(batch, performance.timeOrigin + performance.now()));
  }
  await Promise.all(writes);
  return written;
}

async function measureGateway(settings: Settings, wsUrl: string, authorization: string, events: MembershipEventsRepository, segmentIds: string[]): Promise<LatencyResult> {
  const started = new Map<string, number>();
  const latencies: number[] = [];
  const after = encodeCursor(await events.lastPosition());
  const clients: Client[] = [];
  let warm = 0;
  const ready: Array<Promise<void>> = [];
  for (let i = 0; i < settings.subscribers; i++) {
    const client = createClient({ url: wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization }, retryAttempts: 0, lazy: false, onNonLazyError: () => {} });
    clients.push(client);
    const segmentId = segmentIds[i % segmentIds.length]!;
    ready.push(
      new Promise<void>((resolve, reject) => {
        let first = true;
        client.subscribe<{ segmentMembershipChanged: { memberId: string } }>(
          { query: SUBSCRIPTION, variables: { segmentId, after } },
          {
            next: (result) => {
              const member = result.data?.segmentMembershipChanged.memberId;
              if (member === undefined) return;
              if (first) {
                first = false;
                warm++;
                resolve();
                return;
              }
              const at = started.get(member);
              if (at !== undefined) latencies.push(performance.timeOrigin + performance.now() - at);
            },
            error: reject,
            complete: () => {},
          },
        );
      }),
    );
  }
  // One warm-up change per segment proves every subscription is live before the clock starts.
  await events.append(segmentIds.map((segmentId) => membershipEvent(segmentId, `warm-${segmentId}`)));
  await Promise.all(ready);
  if (warm !== settings.subscribers) throw new Error('not every subscriber is live');

  const changes = await steadyLoad(settings, async (batch, startedAt) => {
    for (const { member } of batch) started.set(member, startedAt);
    await events.append(batch.map(({ segment, member }) => membershipEvent(segmentIds[segment]!, member)));
  });
  const expected = changes * (settings.subscribers / settings.segments);
  await drained(() => latencies.length, expected);
  await Promise.all(clients.map((client) => client.dispose()));
  return summarize('through the gateway (graphql-ws)', changes, expected, latencies);
}

/** The floor: insert with the driver, one change stream, a plain websocket per subscriber. */
async function measureFloor(settings: Settings, client: MongoClient): Promise<LatencyResult> {
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

  const latencies: number[] = [];
  const { port } = server.address() as AddressInfo;
  const sockets = await Promise.all(
    Array.from({ length: settings.subscribers }, (_, i) => {
      const socket = new WebSocket(`ws://127.0.0.1:${port}/?segment=${i % settings.segments}`);
      socket.on('message', (data) => {
        const { at } = JSON.parse(String(data)) as { at: number };
        latencies.push(performance.timeOrigin + performance.now() - at);
      });
      return new Promise<WebSocket>((resolve) => socket.once('open', () => resolve(socket)));
    }),
  );
  await drained(() => wss.clients.size, settings.subscribers);
  const changes = await steadyLoad(settings, async (batch, startedAt) => {
    await collection.insertMany(batch.map(({ segment, member }) => ({ segment, member, at: startedAt })));
  });
  const expected = changes * (settings.subscribers / settings.segments);
  await drained(() => latencies.length, expected);
  sockets.forEach((socket) => socket.close());
  await stream.close();
  await forwarding;
  wss.close();
  server.close();
  await collection.db.dropDatabase();
  return summarize('floor: insert, change stream, plain websocket', changes, expected, latencies);
}

async function measureIdleMemory(settings: Settings, wsUrl: string, authorization: string, segmentId: string): Promise<{ subscriptions: number; heapKbPerSubscriber: number; rssKbPerSubscriber: number }> {
  const gc = collectGarbage();
  const perConnection = 10;
  const connections = Math.ceil(settings.idleSubscribers / perConnection);
  await gc();
  const before = process.memoryUsage();
  const clients: Client[] = [];
  const acks: Array<Promise<void>> = [];
  for (let i = 0; i < connections; i++) {
    let ack!: () => void;
    acks.push(new Promise<void>((resolve) => (ack = resolve)));
    const client = createClient({ url: wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization }, retryAttempts: 0, lazy: false, onNonLazyError: () => {}, on: { connected: () => ack() } });
    clients.push(client);
    for (let j = 0; j < perConnection; j++) client.subscribe({ query: SUBSCRIPTION, variables: { segmentId } }, { next: () => {}, error: () => {}, complete: () => {} });
  }
  await Promise.all(acks);
  // Let every subscription reach the segment subgraph and settle.
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  await gc();
  const after = process.memoryUsage();
  await Promise.all(clients.map((client) => client.dispose()));
  const subscriptions = connections * perConnection;
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
async function drained(count: () => number, expected: number): Promise<void> {
  let last = count();
  let lastChange = Date.now();
  while (count() < expected && Date.now() - lastChange < 5_000) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    if (count() !== last) {
      last = count();
      lastChange = Date.now();
    }
  }
}

let sequence = 0;
function membershipEvent(segmentId: string, memberId: string): NewMembershipEvent {
  sequence++;
  return { segmentId, memberId, memberType: 'PERSON', status: 'realized', occurredAt: new Date(), cause: { kind: 'batch', runId: `bench-${sequence}` } };
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
  try {
    const { generatedKey } = await platform.tenancy.bootstrap(SANDBOX);
    const authorization = `Bearer ${generatedKey}`;
    const segmentIds: string[] = [];
    for (let i = 0; i < settings.segments; i++) {
      const response = await fetch(platform.gateway.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization },
        body: JSON.stringify({ query: 'mutation ($name: String!) { createSegment(input: { name: $name, expression: "jobTitle.contains(\\"vp\\", false)", targetEntity: PERSON }) { id } }', variables: { name: `bench ${i}` } }),
      });
      const body = (await response.json()) as { data: { createSegment: { id: string } } };
      segmentIds.push(body.data.createSegment.id);
    }
    const events = new MembershipEventsRepository(createDatabases(writer, databasePrefix).sandbox(SANDBOX));
    await events.ensureIndexes();

    console.log(`${settings.rate} changes/s for ${settings.durationSeconds} s; ${settings.subscribers} subscribers over ${settings.segments} segments`);
    const floor = await measureFloor(settings, writer);
    const gateway = await measureGateway(settings, platform.gateway.wsUrl, authorization, events, segmentIds);
    const memory = await measureIdleMemory(settings, platform.gateway.wsUrl, authorization, segmentIds[0]!);

    console.table([floor, gateway]);
    console.log(`p99 through the gateway: ${gateway.p99Ms} ms (goal < 250 ms), ${Math.round((gateway.p99Ms / floor.p99Ms) * 10) / 10}x the floor (goal < 3x)`);
    console.log(`Idle subscriptions: ${memory.subscriptions}; ${memory.heapKbPerSubscriber} KB heap and ${memory.rssKbPerSubscriber} KB RSS each (goal < 50 KB)`);
    const results = { settings, floor, gateway, ratioP99: gateway.p99Ms / floor.p99Ms, idleMemory: memory, at: new Date().toISOString() };
    await writeResults('live', results);
    return results;
  } finally {
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
