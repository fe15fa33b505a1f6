/**
 * Every `start:*` entry of package.json, run as a real process the way a
 * deployment runs it (its own MongoDB connection from MONGODB_URI, ports from
 * the environment, shared secrets): each answers health, the gateway answers a
 * query through the four subgraph processes, and SIGTERM stops each cleanly.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabases } from '../../lib/mongo/databases.js';
import { TenancyRepository } from '../../lib/tenancy/tenancy.repository.js';
import { TenancyService } from '../../lib/tenancy/tenancy.service.js';
import { connectTestClient, dropDatabasesWithPrefix, mongoUri, uniqueName } from '../support/mongo.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const tsxCli = fileURLToPath(new URL('../../node_modules/tsx/dist/cli.mjs', import.meta.url));
const scripts: Record<string, string> = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).scripts;
/** `start:profile` -> `platform/profile.ts` and the Node flags it runs with (`tsx --flag ... file`). */
const ENTRIES = Object.entries(scripts)
  .filter(([name]) => name.startsWith('start:'))
  .map(([name, command]) => {
    const [, flags, file] = /^tsx((?: --\S+)*) (\S+\.ts)$/.exec(command) ?? [];
    return { name, part: name.slice('start:'.length), file, flags: flags?.trim().split(' ').filter(Boolean) ?? [] };
  });
/** The flags every entry point runs with, as package.json gives them (the same for all). */
const SERVER_FLAGS = ENTRIES[0]?.flags ?? [];
const SUBGRAPHS = ['profile', 'account', 'segment', 'destination'] as const;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

interface RunningEntry {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function run(file: string, env: Record<string, string>): RunningEntry {
  const child = spawn(process.execPath, [tsxCli, ...SERVER_FLAGS, file], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function statusOf(url: string): Promise<number | undefined> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(2_000) })).status;
  } catch {
    return undefined; // not listening yet
  }
}

describe('start:* entry points as processes', () => {
  const prefix = `${uniqueName('entry')}_`;
  const running = new Map<string, RunningEntry>();
  let env: Record<string, string>;
  let ports: Record<string, number>;

  beforeAll(async () => {
    ports = {};
    for (const part of ['gateway', ...SUBGRAPHS]) ports[part] = await freePort();
    env = {
      MONGODB_URI: mongoUri(),
      CDP_MODE: 'production',
      CDP_GATEWAY_SECRET: randomBytes(32).toString('base64url'),
      CDP_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
      CDP_DB_PREFIX: prefix,
      CDP_LOG_LEVEL: 'info',
      HOST: '127.0.0.1',
      GATEWAY_PORT: String(ports.gateway),
      ...Object.fromEntries(SUBGRAPHS.flatMap((name) => [
        [`${name.toUpperCase()}_PORT`, String(ports[name])],
        [`${name.toUpperCase()}_URL`, `http://127.0.0.1:${ports[name]}/graphql`],
      ])),
    };
  });

  afterAll(async () => {
    for (const entry of running.values()) entry.child.kill('SIGKILL');
    await Promise.all([...running.values()].map((entry) => entry.exited));
    const client = await connectTestClient();
    try {
      await dropDatabasesWithPrefix(client, prefix);
    } finally {
      await client.close();
    }
  });

  it('lists the gateway, the four subgraphs and the worker, each running one file with the Node flags of `npm start`', () => {
    expect(ENTRIES.map((e) => e.part).sort()).toEqual(['account', 'destination', 'gateway', 'profile', 'segment', 'worker']);
    expect(ENTRIES.map((e) => e.file)).toEqual(ENTRIES.map((e) => `platform/${e.part}.ts`));
    const startFlags = /^tsx((?: --\S+)*) platform\/start\.ts$/.exec(scripts.start!)?.[1]!.trim().split(' ');
    expect(startFlags).toContain('--max-semi-space-size=64');
    expect(ENTRIES.map((e) => e.flags)).toEqual(ENTRIES.map(() => startFlags));
  });

  it('starts each subgraph until it answers /health, then the gateway, which answers a query through them, and the worker; SIGTERM stops each', async () => {
    for (const { part, file } of ENTRIES) running.set(part, run(file!, env));

    for (const part of SUBGRAPHS) {
      await expect
        .poll(() => statusOf(`http://127.0.0.1:${ports[part]}/health`), { timeout: 90_000, interval: 250, message: `${part} /health` })
        .toBe(200);
    }
    await expect.poll(() => statusOf(`http://127.0.0.1:${ports.gateway}/healthz`), { timeout: 90_000, interval: 250, message: 'gateway /healthz' }).toBe(200);
    await expect.poll(() => running.get('worker')!.output(), { timeout: 90_000, interval: 250 }).toContain('Worker started');

    // A key made the way an operator's bootstrap makes it, in the processes' platform database.
    const client = await connectTestClient();
    let key: string;
    try {
      const databases = createDatabases(client, prefix);
      const tenancy = new TenancyService({ repository: new TenancyRepository(databases.platform()), dropSandboxData: (name) => databases.dropSandbox(name) });
      key = (await tenancy.bootstrap('smoke')).generatedKey!;
    } finally {
      await client.close();
    }
    const response = await fetch(`http://127.0.0.1:${ports.gateway}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query: 'mutation { upsertAccounts(accounts: [{ name: "Smoke Inc" }]) { status } }' }),
    });
    expect(await response.json()).toEqual({ data: { upsertAccounts: [{ status: 'CREATED' }] } });

    for (const [part, entry] of running) {
      entry.child.kill('SIGTERM');
      expect({ part, code: await entry.exited }).toEqual({ part, code: 0 });
    }
    running.clear();
  }, 240_000);
});

describe('start:* entry points refuse to start without what they need', () => {
  // Every entry goes through platform/runPart.ts, so one entry shows both refusals.
  it('exits 1 naming MONGODB_URI when it is missing, and listing every missing production secret', async () => {
    const withoutMongo = run('platform/profile.ts', { MONGODB_URI: '', CDP_MODE: 'development', CDP_LOG_LEVEL: 'info' });
    const withoutSecrets = run('platform/profile.ts', { MONGODB_URI: mongoUri(), CDP_MODE: 'production', CDP_GATEWAY_SECRET: '', CDP_ENCRYPTION_KEY: '' });
    expect(await withoutMongo.exited).toBe(1);
    expect(withoutMongo.output()).toMatch(/MONGODB_URI is required to run the profile subgraph on its own/);
    expect(await withoutSecrets.exited).toBe(1);
    expect(withoutSecrets.output()).toContain('CDP_GATEWAY_SECRET is required in production');
    expect(withoutSecrets.output()).toContain('CDP_ENCRYPTION_KEY is required in production');
  }, 90_000);
});
