/**
 * Gateway benchmark: the same federated query (a profile and its account, two
 * subgraphs) measured in one run
 *   1. through our gateway (Hive Gateway's runtime),
 *   2. through @apollo/gateway in Apollo Server, on the same supergraph SDL,
 *   3. directly against the profile subgraph (the floor: no federation at all).
 *
 * Subgraphs (BENCH_SUBGRAPHS):
 *   stub  (default) the profile and account subgraphs' real schema files served
 *         by Apollo Server with in-memory resolvers, so the gateway, not the
 *         database, is what is measured;
 *   real  the real subgraphs on the MongoDB found as `npm start` finds it
 *         (devdb here, which caps every target at its own throughput).
 *
 * Fairness: the targets are measured in turns (BENCH_ROUNDS, default 5), so a
 * change in the shared machine's load falls on all of them alike; the load
 * generator, MongoDB, the subgraphs and each gateway run in separate
 * processes; each target gets the same warm-up, connections and duration; Hive's de-duplication of identical in-flight subgraph requests is
 * off (Apollo Gateway has none); logging is off; both gateways cache query
 * plans and keep HTTP connections to the subgraphs alive. Our gateway runs as
 * `npm start` runs it (gateway/startPlatformGateway.ts): API keys checked
 * against the platform database, the per-key rate limiter on it, request and
 * subscription limits, the admin API and the audit log, on the MongoDB the
 * platform would find (MONGODB_URI, mongodb-memory-server, or devdb). Only the
 * rate limit's budget is raised beyond what the load reaches, so every request
 * is charged and none refused. Apollo Gateway runs bare: no key, no limits.
 *
 *   npx tsx bench/gateway.ts              (or: npm run bench -- gateway)
 *   BENCH_DURATION=20 BENCH_CONNECTIONS=50 BENCH_SUBGRAPHS=real npx tsx bench/gateway.ts
 *   BENCH_CPU_PROF=/tmp/prof npx tsx bench/gateway.ts   (a V8 CPU profile of each gateway process)
 *
 * Prints a table and writes bench/results/gateway.json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { GATEWAY_TOKEN_HEADER, createGatewayTokenSigner } from '../lib/auth/gatewayToken.js';
import { profilerFlags, SERVER_NODE_FLAGS, stopChild, stopsWithBenchmark } from './support/processes.js';

const THIS_FILE = fileURLToPath(import.meta.url);
const RESULTS_FILE = fileURLToPath(new URL('./results/gateway.json', import.meta.url));
const SANDBOX = 'bench';
/**
 * Our gateway checks the API key it issued at start against MongoDB and forwards
 * its own signed token; Apollo Gateway forwards this token unchanged, so real
 * subgraphs accept both.
 */
const BENCH_SECRET = 'bench-only-gateway-secret-0123456789abcdef';
const BENCH_DB_PREFIX = 'bench_';
const BENCH_PRINCIPAL = { sandbox: SANDBOX, role: 'admin', keyId: 'bench' } as const;
const BENCH_TOKEN = await createGatewayTokenSigner(BENCH_SECRET, { lifetimeSeconds: 3600 }).sign(BENCH_PRINCIPAL);

const FEDERATED_QUERY = 'query Bench($id: ID!) { profile(id: $id) { id firstName lastName account { id name domain } } }';
const FLOOR_QUERY = 'query Floor($id: ID!) { profile(id: $id) { id firstName lastName } }';

interface Settings {
  subgraphs: 'stub' | 'real';
  connections: number;
  durationSeconds: number;
  warmupSeconds: number;
  /** Each target's duration is split into this many turns, taken in rotation. */
  rounds: number;
}

interface TargetResult {
  name: string;
  url: string;
  requestsPerSecond: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  errors: number;
  non2xx: number;
  /** CPU time of the target's process per request (the subgraphs' process for the floor): unlike req/s, hardly moved by other load on the machine. */
  cpuMsPerRequest: number;
}

// autocannon ships no type declarations; this is the part of its programmatic API used here.
interface AutocannonResult {
  requests: { average: number; total: number };
  /** Seconds the run lasted. */
  duration: number;
  latency: { p50: number; p99: number };
  errors: number;
  timeouts: number;
  non2xx: number;
}
type Autocannon = (options: {
  url: string;
  method: 'POST';
  headers: Record<string, string>;
  body: string;
  connections: number;
  duration: number;
}) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

export async function run(): Promise<{ settings: Settings; results: TargetResult[] }> {
  const settings: Settings = {
    subgraphs: process.env.BENCH_SUBGRAPHS === 'real' ? 'real' : 'stub',
    connections: Number(process.env.BENCH_CONNECTIONS ?? 20),
    durationSeconds: Number(process.env.BENCH_DURATION ?? 10),
    warmupSeconds: Number(process.env.BENCH_WARMUP ?? 3),
    rounds: Number(process.env.BENCH_ROUNDS ?? 5),
  };
  const children: ChildProcess[] = [];
  const workDir = await mkdtemp(join(tmpdir(), 'cdp-bench-gateway-'));
  try {
    const { mongoUri } = await startChild<{ mongoUri: string }>(children, ['--role', 'mongo']);
    const subgraphs = await startChild<{ profile: string; account: string; personId: string }>(children, [
      '--role',
      settings.subgraphs === 'real' ? 'subgraphs' : 'stub-subgraphs',
      '--mongo',
      mongoUri,
    ]);

    const { composeSubgraphs } = await import('../gateway/compose.js');
    const schema = (name: string) => readFile(fileURLToPath(new URL(`../subgraphs/${name}/schema.graphql`, import.meta.url)), 'utf8');
    const supergraphSdl = composeSubgraphs([
      { name: 'profile', url: subgraphs.profile, typeDefs: await schema('profile') },
      { name: 'account', url: subgraphs.account, typeDefs: await schema('account') },
    ]);
    const sdlFile = join(workDir, 'supergraph.graphql');
    await writeFile(sdlFile, supergraphSdl);

    const hive = await startChild<{ url: string; key: string }>(children, ['--role', 'hive', '--sdl', sdlFile, '--mongo', mongoUri]);
    const apollo = await startChild<{ url: string }>(children, ['--role', 'apollo', '--sdl', sdlFile]);

    const variables = { id: subgraphs.personId };
    const targets = [
      { name: 'subgraph alone (floor)', url: subgraphs.profile, query: FLOOR_QUERY, pid: subgraphs.pid },
      { name: 'Apollo Gateway', url: apollo.url, query: FEDERATED_QUERY, pid: apollo.pid },
      { name: 'Hive Gateway runtime (ours)', url: hive.url, query: FEDERATED_QUERY, pid: hive.pid },
    ];

    // Warm every target up first, then measure them in turns: the machine is shared, and a
    // change in its load then falls on every target alike instead of on whichever ran during it.
    const loads = [];
    for (const target of targets) {
      const body = JSON.stringify({ query: target.query, variables });
      const headers = requestHeaders(hive.key);
      await checkAnswer(target.url, headers, body, target.query === FEDERATED_QUERY);
      const load = { url: target.url, method: 'POST' as const, headers, body, connections: settings.connections };
      await autocannon({ ...load, duration: settings.warmupSeconds });
      loads.push({ target, load, rounds: [] as AutocannonResult[], cpuMs: 0 });
    }
    const roundSeconds = Math.max(1, Math.round(settings.durationSeconds / settings.rounds));
    for (let round = 0; round < settings.rounds; round++) {
      for (const entry of loads) {
        const cpuBefore = await cpuMsOf(entry.target.pid);
        entry.rounds.push(await autocannon({ ...entry.load, duration: roundSeconds }));
        entry.cpuMs += (await cpuMsOf(entry.target.pid)) - cpuBefore;
      }
    }
    const results: TargetResult[] = loads.map(({ target, rounds, cpuMs }) => {
      const sum = (pick: (result: AutocannonResult) => number) => rounds.reduce((total, result) => total + pick(result), 0);
      const mean = (pick: (result: AutocannonResult) => number) => Math.round((sum(pick) / rounds.length) * 10) / 10;
      return {
        name: target.name,
        url: target.url,
        requestsPerSecond: Math.round(sum((r) => r.requests.total) / sum((r) => r.duration)),
        latencyP50Ms: mean((r) => r.latency.p50),
        latencyP99Ms: mean((r) => r.latency.p99),
        errors: sum((r) => r.errors + r.timeouts),
        non2xx: sum((r) => r.non2xx),
        cpuMsPerRequest: Math.round((cpuMs / sum((r) => r.requests.total)) * 1000) / 1000,
      };
    });

    await report(settings, results);
    return { settings, results };
  } finally {
    for (const child of children.reverse()) await stopChild(child);
    await rm(workDir, { recursive: true, force: true });
  }
}

function requestHeaders(key: string): Record<string, string> {
  return {
    'content-type': 'application/json',
    authorization: `Bearer ${key}`,
    // Read only by a subgraph called directly (the floor); gateways send their own.
    [GATEWAY_TOKEN_HEADER]: BENCH_TOKEN,
  };
}

/** One request before the load, so a misconfigured target fails loudly instead of benchmarking errors. */
async function checkAnswer(url: string, headers: Record<string, string>, body: string, federated: boolean): Promise<void> {
  const response = await fetch(url, { method: 'POST', headers, body });
  const json = (await response.json()) as { data?: { profile?: { account?: { name?: string } } }; errors?: unknown };
  const ok = response.ok && !json.errors && json.data?.profile && (!federated || json.data.profile.account?.name);
  if (!ok) throw new Error(`Benchmark target ${url} answered ${response.status}: ${JSON.stringify(json)}`);
}

async function report(settings: Settings, results: TargetResult[]): Promise<void> {
  const by = (name: string) => results.find((r) => r.name.startsWith(name))!;
  const hive = by('Hive');
  const apollo = by('Apollo');
  const floor = by('subgraph');
  const ratios = {
    hiveVsApolloThroughput: round(hive.requestsPerSecond / apollo.requestsPerSecond),
    hiveVsApolloP50Latency: round(hive.latencyP50Ms / apollo.latencyP50Ms),
    hiveVsApolloP99Latency: round(hive.latencyP99Ms / apollo.latencyP99Ms),
    hiveShareOfFloorThroughput: round(hive.requestsPerSecond / floor.requestsPerSecond),
    apolloVsHiveCpuPerRequest: round(apollo.cpuMsPerRequest / hive.cpuMsPerRequest),
  };
  console.table(
    results.map((r) => ({
      target: r.name,
      'req/s': r.requestsPerSecond,
      'p50 ms': r.latencyP50Ms,
      'p99 ms': r.latencyP99Ms,
      'vs Apollo (req/s)': round(r.requestsPerSecond / apollo.requestsPerSecond),
      'CPU ms/req': r.cpuMsPerRequest,
      errors: r.errors + r.non2xx,
    })),
  );
  console.log(
    `Hive runtime / Apollo Gateway throughput: ${ratios.hiveVsApolloThroughput}x (goal >= 1.5x); ` +
      `p99 latency ratio ${ratios.hiveVsApolloP99Latency}; Apollo uses ${ratios.apolloVsHiveCpuPerRequest}x our CPU per request; ${settings.subgraphs} subgraphs, ${settings.connections} connections, ${settings.durationSeconds} s each in ${settings.rounds} turns after ${settings.warmupSeconds} s warm-up.`,
  );
  const document = {
    benchmark: 'gateway',
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version },
    settings,
    query: { federated: FEDERATED_QUERY, floor: FLOOR_QUERY },
    results,
    ratios,
  };
  await mkdir(fileURLToPath(new URL('./results/', import.meta.url)), { recursive: true });
  await writeFile(RESULTS_FILE, `${JSON.stringify(document, null, 2)}\n`);
  console.log(`Results written to ${RESULTS_FILE}`);
}

const round = (value: number) => Math.round(value * 100) / 100;

/** User and system CPU time a process has used so far (Linux: /proc/<pid>/stat, in clock ticks of 10 ms). */
async function cpuMsOf(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces), counted from field 3.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

// ---- Child processes: each server in its own process, reporting its URLs as one JSON line.

async function startChild<T>(children: ChildProcess[], args: string[]): Promise<T & { pid: number }> {
  const gateway = args[1] === 'hive' || args[1] === 'apollo';
  const child = stopsWithBenchmark(spawn(process.execPath, [...SERVER_NODE_FLAGS, ...(gateway ? profilerFlags() : []), '--import', 'tsx', THIS_FILE, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, NODE_ENV: 'production' },
  }));
  children.push(child);
  const lines = createInterface({ input: child.stdout! });
  return new Promise<T & { pid: number }>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`bench child ${args.join(' ')} exited with ${code}`)));
    lines.once('line', (line) => resolve({ ...(JSON.parse(line) as T), pid: child.pid! }));
  });
}

async function serve(role: string, sdlFile: string | undefined, mongoUri: string | undefined): Promise<void> {
  const { silentLogger } = await import('../lib/logger.js');
  let stop: () => Promise<void>;

  if (role === 'mongo') {
    // The MongoDB `npm start` would find, in a process of its own so its work is not the gateway's.
    const { findMongo } = await import('../lib/mongo/findMongo.js');
    const mongo = await findMongo({ mongodbUri: process.env.MONGODB_URI, logger: silentLogger, downloadTimeoutMs: 5_000 });
    stop = () => mongo.stop();
    process.stdout.write(`${JSON.stringify({ mongoUri: mongo.uri })}\n`);
  } else if (role === 'subgraphs') {
    const { connectMongo, createDatabases } = await import('../lib/mongo/databases.js');
    const { startProfileSubgraph } = await import('../subgraphs/profile/server.js');
    const { startAccountSubgraph } = await import('../subgraphs/account/server.js');
    const client = await connectMongo(mongoUri!);
    const databases = createDatabases(client, BENCH_DB_PREFIX);
    const security = { gatewaySecret: BENCH_SECRET, encryptionKey: '00'.repeat(32) };
    const base = { databases, port: 0, host: '127.0.0.1', logger: silentLogger, security };
    const [profile, account] = await Promise.all([startProfileSubgraph(base), startAccountSubgraph(base)]);
    const personId = await seed(profile.url, account.url);
    stop = async () => {
      await Promise.all([profile.stop(), account.stop()]);
      await client.db(`${BENCH_DB_PREFIX}sb_${SANDBOX}`).dropDatabase();
      await client.close();
    };
    process.stdout.write(`${JSON.stringify({ profile: profile.url, account: account.url, personId })}\n`);
  } else if (role === 'stub-subgraphs') {
    const [profile, account] = await Promise.all([startStubSubgraph('profile'), startStubSubgraph('account')]);
    stop = async () => {
      await Promise.all([profile.stop(), account.stop()]);
    };
    process.stdout.write(`${JSON.stringify({ profile: profile.url, account: account.url, personId: STUB_PERSON_ID })}\n`);
  } else if (role === 'hive') {
    const { loadConfig } = await import('../lib/config.js');
    const { connectMongo, createDatabases } = await import('../lib/mongo/databases.js');
    const { startPlatformGateway } = await import('../gateway/startPlatformGateway.js');
    const config = loadConfig({
      CDP_DB_PREFIX: BENCH_DB_PREFIX,
      CDP_GATEWAY_SECRET: BENCH_SECRET,
      CDP_LOG_LEVEL: 'silent',
      // Every request is charged to the key as in production; the budget is one no run reaches.
      CDP_RATE_LIMIT_PER_MINUTE: '1000000000',
    });
    const client = await connectMongo(mongoUri!);
    const databases = createDatabases(client, BENCH_DB_PREFIX);
    const { gateway, tenancy } = await startPlatformGateway({
      config,
      databases,
      supergraphSdl: await readFile(sdlFile!, 'utf8'),
      subgraphUrls: config.subgraphUrls,
      port: 0,
      host: '127.0.0.1',
      logger: silentLogger,
      graphiql: config.mode !== 'production',
      deduplicateSubgraphRequests: false,
    });
    const { generatedKey } = await tenancy.bootstrap(SANDBOX);
    stop = async () => {
      await gateway.stop();
      await databases.platform().dropDatabase();
      await client.close();
    };
    process.stdout.write(`${JSON.stringify({ url: gateway.url, key: generatedKey })}\n`);
  } else if (role === 'apollo') {
    const { ApolloServer } = await import('@apollo/server');
    const { startStandaloneServer } = await import('@apollo/server/standalone');
    const { ApolloGateway, RemoteGraphQLDataSource } = await import('@apollo/gateway');
    interface Ctx {
      token: string;
    }
    const gateway = new ApolloGateway({
      supergraphSdl: await readFile(sdlFile!, 'utf8'),
      logger: silentLogger,
      buildService: ({ url }) =>
        new RemoteGraphQLDataSource<Ctx>({
          url,
          // The same forwarding our gateway does.
          willSendRequest({ request, context }) {
            request.http?.headers.set(GATEWAY_TOKEN_HEADER, context.token);
          },
        }),
    });
    const server = new ApolloServer<Ctx>({ gateway, logger: silentLogger });
    const { url } = await startStandaloneServer(server, {
      listen: { port: 0, host: '127.0.0.1' },
      context: async ({ req }) => ({ token: String(req.headers[GATEWAY_TOKEN_HEADER] ?? '') }),
    });
    stop = () => server.stop();
    process.stdout.write(`${JSON.stringify({ url: new URL('/graphql', url).toString() })}\n`);
  } else {
    throw new Error(`unknown role ${role}`);
  }

  const shutdown = () => void stop().finally(() => process.exit(0));
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

const STUB_PERSON_ID = 'prof_bench';

/** A subgraph's real schema file with in-memory resolvers for the benchmark query. */
async function startStubSubgraph(name: 'profile' | 'account'): Promise<{ url: string; stop: () => Promise<void> }> {
  const { parse } = await import('graphql');
  const { ApolloServer } = await import('@apollo/server');
  const { startStandaloneServer } = await import('@apollo/server/standalone');
  const { ApolloServerPluginInlineTraceDisabled } = await import('@apollo/server/plugin/disabled');
  const { buildSubgraphSchema } = await import('@apollo/subgraph');
  const typeDefs = parse(await readFile(fileURLToPath(new URL(`../subgraphs/${name}/schema.graphql`, import.meta.url)), 'utf8'));
  const resolvers =
    name === 'profile'
      ? {
          Query: { profile: (_: unknown, { id }: { id: string }) => stubPerson(id) },
          Profile: { __resolveReference: (ref: { id: string }) => stubPerson(ref.id) },
        }
      : {
          Profile: {
            __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
            account: () => ({ id: 'acc_bench', name: 'Analytical Engines', domain: 'engines.example' }),
          },
        };
  const server = new ApolloServer({
    schema: buildSubgraphSchema([{ typeDefs, resolvers: resolvers as never }]),
    plugins: [ApolloServerPluginInlineTraceDisabled()],
  });
  const { url } = await startStandaloneServer(server, { listen: { port: 0, host: '127.0.0.1' } });
  return { url: new URL('/graphql', url).toString(), stop: () => server.stop() };
}

/** What the account subgraph requires of a profile (`linkKeys`) comes with it, as from the real profile subgraph. */
function stubPerson(id: string) {
  return { id, firstName: 'Ada', lastName: 'Lovelace', linkKeys: [`id:${id}`] };
}

/** One person linked to one account, in the bench sandbox; returns the person's id. */
async function seed(profileUrl: string, accountUrl: string): Promise<string> {
  const call = async (url: string, query: string, variables: Record<string, unknown>) => {
    const response = await fetch(url, { method: 'POST', headers: requestHeaders('unused'), body: JSON.stringify({ query, variables }) });
    const json = (await response.json()) as { data?: any; errors?: unknown };
    if (json.errors) throw new Error(`seeding failed: ${JSON.stringify(json.errors)}`);
    return json.data;
  };
  const people = await call(profileUrl, 'mutation ($p: [PersonInput!]!) { upsertPeople(people: $p) { profile { id } } }', {
    p: [{ firstName: 'Ada', lastName: 'Lovelace', workEmail: 'ada@engines.example' }],
  });
  const personId: string = people.upsertPeople[0].profile.id;
  const accounts = await call(accountUrl, 'mutation ($a: [AccountInput!]!) { upsertAccounts(accounts: $a) { account { id } } }', {
    a: [{ name: 'Analytical Engines', domain: 'engines.example' }],
  });
  await call(accountUrl, 'mutation ($l: [AccountPersonLinkInput!]!) { linkPeopleToAccounts(links: $l) { status } }', {
    l: [{ personId, accountId: accounts.upsertAccounts[0].account.id, isPrimary: true }],
  });
  return personId;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { role: { type: 'string' }, sdl: { type: 'string' }, mongo: { type: 'string' } }, strict: false });
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  if (typeof values.role === 'string') {
    await serve(values.role, text(values.sdl), text(values.mongo));
  } else {
    await run();
    process.exit(0);
  }
}
