/**
 * Streaming evaluation benchmark, in one run (`npm run bench -- streaming`):
 *   - ingest-to-membership-event latency, p50 and p99: events sent through the gateway
 *     (`ingestEvents`) at 1,500 changes/s for 60 s, with 100 streaming segments; about ten
 *     times a second one of them is a probe that makes a fresh person enter the probe
 *     segment, timed from the moment its call was sent to the moment its membership event
 *     reaches a change stream on the event log (what a subscriber would see). Goal: p99
 *     under 250 ms. The load starts 10 s earlier at the same rate, unmeasured: the first
 *     change to each person after the evaluator's first pass also turns its realized
 *     memberships into existing ones, a one-off that a running platform has long done.
 *   - the lag after the load stops: until the evaluator reports nothing pending and no lag.
 *   - the peak RSS of the worker process running the evaluator.
 *   - where the time goes: each probe's latency split at the moment its event is visible in a
 *     change stream (ingest, then evaluation); CPU milliseconds per change of the worker and of
 *     devdb (when it runs here), which say what a change costs however busy the machine is; and
 *     the evaluator's own phases (`streaming_phase_seconds`, read from the worker's /metrics).
 *
 * MongoDB is MONGODB_URI or, failing that, devdb in a child process; the gateway and
 * subgraphs run in this process, the worker in its own.
 *
 *   BENCH_SCALE=0.1 npm run bench -- streaming     (a tenth of the rate and duration)
 *   BENCH_LOG=info npm run bench -- streaming      (the platform's and worker's logs)
 *
 * Prints a table and writes bench/results/streaming.json.
 */
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { ChildProcess } from 'node:child_process';
import { MongoClient } from 'mongodb';
import { createGraphQLCall, type GraphQLCall } from '../lib/graphqlClient.js';
import { identityKey } from '../lib/identity/namespaces.js';
import type { RunningPlatform } from '../platform/startPlatform.js';
import { MEMBERSHIP_EVENTS_COLLECTION } from '../subgraphs/segment/memberships.layout.js';
import { STREAMING_LEASES_COLLECTION } from '../subgraphs/segment/streaming/layout.js';
import { startBenchPlatform } from './support/benchPlatform.js';
import { peakRssMb, startWorkerChild, stopChild } from './support/processes.js';
import { dropBenchDatabases, machine, mongoSetting, writeResults } from './support/results.js';

const DB_PREFIX = 'benchstr_';
const SEGMENTS = 100;
const PROBES_PER_SECOND = 10;
/** How long after the evaluator reports it has caught up a probe event may still arrive before the probe counts as missing. */
const PROBE_GRACE_MS = 5_000;
const TICK_MS = 100;
/** Seconds of load before the measured ones (scaled like the load's duration, at least 3). */
const WARM_UP_SECONDS = 10;
/** Calls in flight at most: past it the sender waits, and the achieved rate says so. */
const MAX_IN_FLIGHT = 16;
const DAY = 86_400_000;

const round = (value: number) => Math.round(value * 10) / 10;
const percentile = (sorted: readonly number[], p: number) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!);

/** 99 segments over people and their events (a third with time windows, some chained) and the probe segment. */
function segmentExpressions(): Array<{ name: string; expression: string }> {
  const list: Array<{ name: string; expression: string }> = [{ name: 'probe', expression: 'events.any(type = "bench.probe")' }];
  for (let i = 0; list.length < SEGMENTS; i++) {
    const page = `/pricing/${i % 20}`;
    switch (i % 4) {
      case 0:
        list.push({ name: `pricing ${i}`, expression: `events.count(type = "web.pageView" and url.contains("${page}") and timestamp occurs <= 30 days before now) >= ${1 + (i % 3)}` });
        break;
      case 1:
        list.push({ name: `visitors ${i}`, expression: `events.any(url.contains("${page}")) and not events.any(type = "form.submit")` });
        break;
      case 2:
        list.push({ name: `opens ${i}`, expression: `events.count(type = "email.open") >= ${1 + (i % 5)}` });
        break;
      default:
        list.push({ name: `engaged ${i}`, expression: `events.count() >= ${2 + (i % 7)} and events.any(type = "web.pageView" and timestamp occurs <= 7 days before now)` });
    }
  }
  return list;
}

/** The worker's /metrics address, from its log line. */
function metricsUrlOf(worker: ChildProcess): Promise<string | null> {
  return new Promise((resolve) => {
    // Not closed once found: closing a readline pauses the stream the worker's other reader needs.
    createInterface({ input: worker.stdout! }).on('line', (line) => {
      const url = /"url":"([^"]+\/metrics)"/.exec(line)?.[1];
      if (url) resolve(url);
    });
    worker.once('exit', () => resolve(null));
  });
}

/** CPU seconds (user + system) a process has used so far (Linux); NaN without a pid. */
async function cpuSeconds(pid: number | undefined): Promise<number> {
  if (pid === undefined) return NaN;
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  // utime and stime are fields 14 and 15 of the line, 12 and 13 after the command name; in clock ticks (100 a second on Linux).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

type PhaseTotals = Map<string, { seconds: number; count: number }>;

/** Sum and count of each phase of `streaming_phase_seconds`, from the worker's metrics. */
async function readPhases(url: string | null): Promise<PhaseTotals> {
  const totals: PhaseTotals = new Map();
  if (!url) return totals;
  const text = await (await fetch(url)).text();
  for (const match of text.matchAll(/^\w*streaming_phase_seconds_(sum|count)\{phase="(\w+)"\} ([\d.e+-]+)$/gm)) {
    const entry = totals.get(match[2]!) ?? { seconds: 0, count: 0 };
    if (match[1] === 'sum') entry.seconds = Number(match[3]);
    else entry.count = Number(match[3]);
    totals.set(match[2]!, entry);
  }
  return totals;
}

function phaseDifference(before: PhaseTotals, after: PhaseTotals): Array<{ phase: string; 'total s': number; times: number; 'mean ms': number }> {
  return [...after].map(([phase, { seconds, count }]) => {
    const start = before.get(phase) ?? { seconds: 0, count: 0 };
    const times = count - start.count;
    return { phase, 'total s': round(seconds - start.seconds), times, 'mean ms': times === 0 ? 0 : round(((seconds - start.seconds) * 1000) / times) };
  });
}

interface LoadResult {
  sent: number;
  seconds: number;
  changesPerSecond: number;
  failedCalls: number;
  probes: Map<string, number>;
}

/** One event per load person, so the measured load changes existing profiles (as most traffic does). */
async function warmUp(call: GraphQLCall, people: number): Promise<void> {
  const mutation = 'mutation ($e: [EventInput!]!) { ingestEvents(events: $e) { status } }';
  const batches = Array.from({ length: Math.ceil(people / 100) }, (_, b) => b);
  const next = async (): Promise<void> => {
    for (let b = batches.shift(); b !== undefined; b = batches.shift()) {
      const events = Array.from({ length: Math.min(100, people - b * 100) }, (_, i) => ({
        sourceKey: `warm-${b * 100 + i}@123-ABC-456.Marketo`,
        identity: { namespace: 'Email', value: `load-${b * 100 + i}@bench.example` },
        type: 'email.open',
        timestamp: new Date().toISOString(),
      }));
      await call(mutation, { e: events });
    }
  };
  await Promise.all(Array.from({ length: 4 }, next));
}

/**
 * Sends `rate` events a second for `warmUpSeconds` and then `seconds` more, in ticks, with probes among
 * them from the end of the warm-up on; answers when each probe was sent.
 */
async function sendLoad(call: GraphQLCall, rate: number, warmUpSeconds: number, seconds: number, people: number): Promise<LoadResult> {
  const mutation = 'mutation ($e: [EventInput!]!) { ingestEvents(events: $e) { status } }';
  const perTick = Math.max(1, Math.round((rate * TICK_MS) / 1000));
  const probeEvery = Math.max(1, Math.round(1000 / PROBES_PER_SECOND / TICK_MS));
  const warmUpTicks = Math.round((warmUpSeconds * 1000) / TICK_MS);
  const ticks = warmUpTicks + Math.round((seconds * 1000) / TICK_MS);
  const probes = new Map<string, number>();
  const inFlight = new Set<Promise<void>>();
  let sent = 0;
  let failedCalls = 0;
  let n = 0;
  const started = performance.now();
  const deadline = started + (warmUpSeconds + seconds) * 1000;
  for (let tick = 0; tick < ticks; tick++) {
    const due = started + tick * TICK_MS;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    // Past the calls the platform can take, the sender waits; ticks it falls behind on are dropped, so the run lasts as long as asked.
    while (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight);
    if (performance.now() >= deadline) break;
    if (performance.now() - due > TICK_MS) continue;
    const events = Array.from({ length: perTick }, () => {
      const k = n++;
      const type = ['web.pageView', 'web.pageView', 'email.open', 'form.submit'][k % 4]!;
      return {
        sourceKey: `load-${k}@123-ABC-456.Marketo`,
        identity: { namespace: 'Email', value: `load-${k % people}@bench.example` },
        type,
        url: `https://bench.example/pricing/${k % 20}`,
        timestamp: new Date(Date.now() - (k % 40) * DAY).toISOString(),
      };
    });
    let probe: string | undefined;
    if (tick >= warmUpTicks && tick % probeEvery === 0) {
      probe = `probe-${tick}@bench.example`;
      events[0] = { sourceKey: `probe-${tick}@123-ABC-456.Marketo`, identity: { namespace: 'Email', value: probe }, type: 'bench.probe', url: 'https://bench.example/', timestamp: new Date().toISOString() };
    }
    const sentAt = performance.now();
    const request = call(mutation, { e: events }).then(
      () => {
        sent += events.length;
        if (probe) probes.set(probe, sentAt);
      },
      () => void failedCalls++,
    );
    inFlight.add(request);
    void request.finally(() => inFlight.delete(request));
  }
  await Promise.all(inFlight);
  const elapsed = Math.max(warmUpSeconds + seconds, (performance.now() - started) / 1000);
  return { sent, seconds: round(elapsed), changesPerSecond: Math.round(sent / elapsed), failedCalls, probes };
}

export async function run() {
  const scale = Number(process.env.BENCH_SCALE ?? 1);
  if (!(scale > 0)) throw new Error('BENCH_SCALE must be a positive number');
  const rate = Math.max(50, Math.round(1_500 * scale));
  const seconds = Math.max(5, Math.round(60 * scale));
  const warmUpSeconds = Math.max(3, Math.round(WARM_UP_SECONDS * scale));
  const people = Math.max(100, Math.round(2_000 * scale));
  const children: ChildProcess[] = [];
  let platform: RunningPlatform | undefined;
  let client: MongoClient | undefined;
  let worker: ChildProcess | undefined;
  try {
    const started = await startBenchPlatform({ dbPrefix: DB_PREFIX, children });
    const { mongoUri, gatewaySecret: secret } = started;
    platform = started.platform;
    const call = createGraphQLCall(platform.gateway.url, { headers: { authorization: `Bearer ${platform.generatedAdminKey!}` } });
    client = new MongoClient(mongoUri);
    await client.connect();
    const sandboxDb = client.db(platform.databases.sandbox('default').databaseName);

    console.log(`Creating ${SEGMENTS} segments...`);
    let probeSegment = '';
    for (const { name, expression } of segmentExpressions()) {
      const { createSegment } = await call<{ createSegment: { id: string } }>('mutation ($input: CreateSegmentInput!) { createSegment(input: $input) { id } }', {
        input: { name, targetEntity: 'PERSON', expression },
      });
      if (name === 'probe') probeSegment = createSegment.id;
    }
    console.log(`Creating ${people} people...`);
    await warmUp(call, people);
    const workerChild = startWorkerChild({
      MONGODB_URI: mongoUri,
      CDP_DB_PREFIX: DB_PREFIX,
      CDP_GATEWAY_SECRET: secret,
      CDP_LOG_LEVEL: process.env.BENCH_LOG ?? 'silent',
      ...Object.fromEntries(Object.entries(platform.subgraphs).map(([name, service]) => [`${name.toUpperCase()}_URL`, service.url])),
    });
    worker = workerChild.child;
    children.push(worker);
    const workerMetrics = metricsUrlOf(worker);
    await workerChild.ready;
    const status = async () =>
      (await call<{ streamingStatus: { lagMs: number; pendingChanges: number; lastChangeAt: string | null } }>('{ streamingStatus { lagMs pendingChanges lastChangeAt } }')).streamingStatus;

    // The first pass over the sandbox's people, before the clock starts: done when the evaluator's state has no pass left.
    const leases = client.db(platform.databases.platform().databaseName).collection<{ _id: string; initialized?: boolean; passes?: unknown[] }>(STREAMING_LEASES_COLLECTION);
    for (;;) {
      const lease = await leases.findOne({ _id: 'default' });
      if (lease?.initialized && lease.passes?.length === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }

    // Probe entries as a subscriber would see them: a change stream on the event log.
    const arrivals = new Map<string, number>();
    const stream = sandboxDb.collection(MEMBERSHIP_EVENTS_COLLECTION).watch([{ $match: { operationType: 'insert', 'fullDocument.segmentId': probeSegment } }]);
    void (async () => {
      for await (const change of stream) {
        if (change.operationType !== 'insert') continue;
        const memberId = String(change.fullDocument.memberId);
        if (!arrivals.has(memberId)) arrivals.set(memberId, performance.now());
      }
    })().catch(() => undefined);

    // When each probe's event is visible to a change stream: splits the latency into ingest and evaluation.
    const visible = new Map<string, number>();
    const eventStream = sandboxDb.collection('events').watch([{ $match: { operationType: 'insert', 'fullDocument.type': 'bench.probe' } }]);
    void (async () => {
      for await (const change of eventStream) {
        if (change.operationType !== 'insert') continue;
        const key = String(change.fullDocument.identityKey);
        if (!visible.has(key)) visible.set(key, performance.now());
      }
    })().catch(() => undefined);
    const phasesBefore = await readPhases(await workerMetrics);
    // devdb, when it runs as a child of this process (not with MONGODB_URI).
    const database = children.find((child) => child !== worker);
    const cpuBefore = { worker: await cpuSeconds(worker.pid), database: await cpuSeconds(database?.pid) };

    console.log(`Sending ${rate} changes/s through the gateway for ${warmUpSeconds} s of warm-up and ${seconds} s measured (${SEGMENTS} streaming segments)...`);
    const load = await sendLoad(call, rate, warmUpSeconds, seconds, people);
    const loadEnded = performance.now();
    const lagAtEnd = await status();
    let caughtUpMs = NaN;
    for (const deadline = loadEnded + 600_000; performance.now() < deadline; ) {
      const now = await status();
      if (now.pendingChanges === 0 && now.lagMs === 0) {
        caughtUpMs = Math.round(performance.now() - loadEnded);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // Probe people are found by email: their profile ids come from the identity graph.
    const probePeople = await sandboxDb
      .collection('people')
      .find({ identityKeys: { $in: [...load.probes.keys()].map((email) => identityKey({ namespace: 'Email', value: email })) } }, { projection: { identityKeys: 1 } })
      .toArray();
    // "Caught up" is what the evaluator has read: a change still on its way to it is not counted there, so the last
    // probes may land just after. A probe is missing only if its event has not come a few seconds later.
    for (const deadline = performance.now() + PROBE_GRACE_MS; performance.now() < deadline; ) {
      if (probePeople.every((person) => arrivals.has(String(person._id)))) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const latencies: number[] = [];
    const ingestLatencies: number[] = [];
    const evaluationLatencies: number[] = [];
    let missing = 0;
    for (const person of probePeople) {
      const key = (person.identityKeys as string[]).find((candidate) => load.probes.has(candidate.slice(candidate.indexOf(':') + 1)))!;
      const email = key.slice(key.indexOf(':') + 1);
      const arrived = arrivals.get(String(person._id));
      if (arrived === undefined) missing++;
      else {
        const sentAt = load.probes.get(email)!;
        latencies.push(arrived - sentAt);
        const seen = visible.get(key);
        if (seen !== undefined) {
          ingestLatencies.push(seen - sentAt);
          evaluationLatencies.push(arrived - seen);
        }
      }
    }
    missing += load.probes.size - probePeople.length;
    await stream.close();
    await eventStream.close();
    for (const list of [latencies, ingestLatencies, evaluationLatencies]) list.sort((a, b) => a - b);
    const phases = phaseDifference(phasesBefore, await readPhases(await workerMetrics));
    const perChange = (before: number, after: number) => (load.sent === 0 || Number.isNaN(before) ? NaN : round(((after - before) * 1000) / load.sent));
    const workerCpuMsPerChange = perChange(cpuBefore.worker, await cpuSeconds(worker.pid));
    const databaseCpuMsPerChange = perChange(cpuBefore.database, await cpuSeconds(database?.pid));
    const workerPeakRssMb = await peakRssMb(worker.pid!);

    const summary = {
      changesPerSecond: load.changesPerSecond,
      latencyP50Ms: round(percentile(latencies, 50)),
      latencyP99Ms: round(percentile(latencies, 99)),
      latencyMaxMs: round(latencies.at(-1) ?? NaN),
      ingestToChangeP50Ms: round(percentile(ingestLatencies, 50)),
      ingestToChangeP99Ms: round(percentile(ingestLatencies, 99)),
      changeToEventP50Ms: round(percentile(evaluationLatencies, 50)),
      changeToEventP99Ms: round(percentile(evaluationLatencies, 99)),
      probes: latencies.length,
      probesMissing: missing,
      lagMsWhenLoadStopped: lagAtEnd.lagMs,
      pendingWhenLoadStopped: lagAtEnd.pendingChanges,
      caughtUpMsAfterLoad: caughtUpMs,
      workerPeakRssMb,
      workerCpuMsPerChange,
      databaseCpuMsPerChange,
    };
    console.table([
      {
        'changes/s (goal 1,500)': summary.changesPerSecond,
        's (warm-up and measured)': load.seconds,
        segments: SEGMENTS,
        'p50 ms': summary.latencyP50Ms,
        'p99 ms (goal < 250)': summary.latencyP99Ms,
        'max ms': summary.latencyMaxMs,
        probes: summary.probes,
        missing: summary.probesMissing,
        'lag at stop ms': summary.lagMsWhenLoadStopped,
        'caught up after ms': summary.caughtUpMsAfterLoad,
        'worker peak RSS MB': summary.workerPeakRssMb,
      },
    ]);
    console.log('Probe latency split: sent -> its event visible in a change stream (ingest), then -> its membership event (evaluation):');
    console.table([
      { part: 'ingest', 'p50 ms': summary.ingestToChangeP50Ms, 'p99 ms': summary.ingestToChangeP99Ms },
      { part: 'evaluation', 'p50 ms': summary.changeToEventP50Ms, 'p99 ms': summary.changeToEventP99Ms },
    ]);
    // CPU time per change sent, from the load's start until caught up: what a change costs, however busy the machine is.
    console.log(`CPU per change: worker ${summary.workerCpuMsPerChange} ms, devdb ${summary.databaseCpuMsPerChange} ms (ingest's writes included)`);
    console.log('Where the evaluator spent its time during the load and catch-up (streaming_phase_seconds):');
    console.table(phases);
    if (load.failedCalls > 0) console.log(`${load.failedCalls} ingest calls failed.`);
    const document = {
      benchmark: 'streaming',
      date: new Date().toISOString(),
      machine: machine(),
      settings: { scale, rate, warmUpSeconds, seconds, people, segments: SEGMENTS, probesPerSecond: PROBES_PER_SECOND, mongo: mongoSetting() },
      load: { sent: load.sent, seconds: load.seconds, changesPerSecond: load.changesPerSecond, failedCalls: load.failedCalls },
      summary,
      phases,
    };
    await writeResults('streaming', document);
    return document;
  } finally {
    if (worker) await stopChild(worker).catch(() => undefined);
    if (client) {
      await dropBenchDatabases(client, DB_PREFIX);
      await client.close();
    }
    await platform?.stop();
    for (const child of children) await stopChild(child).catch(() => undefined);
  }
}
