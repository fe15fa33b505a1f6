/**
 * Creating and deleting sandboxes through the admin API. Only a platform admin
 * creates and deletes, and no answer tells a tenant another's sandbox names.
 * Deleting takes effect in every process: a second gateway and profile subgraph
 * (their own MongoClient, as another process has) refuse the deleted sandbox's
 * key on the next request, although the second gateway still holds the key in
 * its cache, and nothing writes the dropped database back. Whichever a gateway
 * hears of first, the key's revocation or the sandbox's deletion, it answers
 * that the sandbox was deleted.
 */
import { randomBytes } from 'node:crypto';
import type { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeSupergraph } from '../../gateway/compose.js';
import type { RunningGateway } from '../../gateway/server.js';
import { startPlatformGateway } from '../../gateway/startPlatformGateway.js';
import { loadConfig, SUBGRAPH_NAMES, type SubgraphName } from '../../lib/config.js';
import { silentLogger } from '../../lib/logger.js';
import { createDatabases, type Databases } from '../../lib/mongo/databases.js';
import type { RunningService } from '../../lib/service.js';
import { followDeletedSandboxes } from '../../lib/tenancy/deletedSandboxes.js';
import { TenancyRepository } from '../../lib/tenancy/tenancy.repository.js';
import { startProfileSubgraph } from '../../subgraphs/profile/server.js';
import { connectTestClient, dropDatabasesWithPrefix, uniqueName } from '../support/mongo.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';

const env = {
  CDP_GATEWAY_SECRET: randomBytes(32).toString('base64url'),
  CDP_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
};

async function post(url: string, query: string, key: string, variables: Record<string, unknown> = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as { data?: any; errors?: Array<{ message: string; extensions?: { code?: string } }> };
}

/** What every process answers a deleted sandbox's key, whatever it heard of first. */
const deletedMessage = (name: string) => `The sandbox "${name}" was deleted; its API keys no longer work`;

const codes = (answer: { errors?: Array<{ extensions?: { code?: string } }> }) => (answer.errors ?? []).map((e) => e.extensions?.code);

async function databaseNames(client: MongoClient): Promise<string[]> {
  const { databases } = await client.db('admin').admin().listDatabases({ nameOnly: true });
  return databases.map((db) => db.name);
}

const UPSERT = 'mutation ($p: [PersonInput!]!) { upsertPeople(people: $p) { status } }';
const person = (email: string) => ({ p: [{ firstName: 'Ada', workEmail: email }] });

describe('sandboxes through the admin API, seen from two processes', () => {
  let platform: TestPlatform;
  let secondClient: MongoClient;
  let secondDatabases: Databases;
  let secondProfile: RunningService;
  let secondGateway: RunningGateway;
  /** Sandboxes whose deletion the second gateway is kept from hearing of: it learns only of their keys' revocation. */
  const unheardDeletions = new Set<string>();

  beforeAll(async () => {
    [platform, secondClient] = await Promise.all([startTestPlatform({ env }), connectTestClient()]);
    const config = loadConfig({ CDP_MODE: 'test', CDP_DB_PREFIX: platform.databasePrefix, ...env });
    secondDatabases = createDatabases(secondClient, platform.databasePrefix);
    secondProfile = await startProfileSubgraph({ databases: secondDatabases, security: config.security, port: 0, host: '127.0.0.1' });
    const routingUrls = Object.fromEntries(
      SUBGRAPH_NAMES.map((name) => [name, name === 'profile' ? secondProfile.url : platform.subgraphs[name].url]),
    ) as Record<SubgraphName, string>;
    ({ gateway: secondGateway } = await startPlatformGateway({
      config,
      databases: {
        ...secondDatabases,
        isSandboxDeleted: (name) => !unheardDeletions.has(name) && secondDatabases.isSandboxDeleted(name),
      },
      supergraphSdl: await composeSupergraph({ routingUrls }),
      subgraphUrls: routingUrls,
      port: 0,
      host: '127.0.0.1',
      logger: silentLogger,
    }));
  }, 60_000);

  afterAll(async () => {
    await secondGateway?.stop();
    await secondProfile?.stop();
    await secondClient?.close();
    await platform?.stop();
  });

  it("answers a tenant's create and reset of another's sandbox alike, and lets only the platform admin create", async () => {
    const adminUrl = new URL('/admin/graphql', platform.gatewayUrl).toString();
    const tenantKey = await platform.keyFor(uniqueName('tenant-'));
    const platformKey = await platform.keyFor('default');
    const me = await post(adminUrl, '{ me { sandbox platformAdmin } }', platformKey);
    expect(me.data.me).toEqual({ sandbox: 'default', platformAdmin: true });

    const answer = async (query: string, key: string) => {
      const { data, errors } = await post(adminUrl, query, key);
      return { data: data ?? null, errors: errors?.map((e) => ({ code: e.extensions?.code, message: e.message })) };
    };
    // The finding: "default" exists, "nosuch-name" does not; both answer the same.
    for (const name of ['default', 'nosuch-name']) {
      const created = await answer(`mutation { createSandbox(name: "${name}") { sandbox { name } } }`, tenantKey);
      expect(created.errors?.map((e) => e.code)).toEqual(['FORBIDDEN']);
      const reset = await answer(`mutation { resetSandbox(name: "${name}") { name } }`, tenantKey);
      expect(JSON.stringify(reset).replaceAll(name, '<name>')).toBe(
        JSON.stringify({ data: null, errors: [{ code: 'NOT_FOUND', message: 'Sandbox "<name>" was not found' }] }),
      );
    }
    const fresh = uniqueName('made-');
    const made = await answer(`mutation { createSandbox(name: "${fresh}") { sandbox { name } } }`, platformKey);
    expect(made).toEqual({ data: { createSandbox: { sandbox: { name: fresh } } }, errors: undefined });
    expect((await answer('{ sandboxes { name } }', tenantKey)).data.sandboxes).toHaveLength(1);
  });

  it("refuses the deleted sandbox's key on the next request through another gateway, and does not recreate its database", async () => {
    const name = uniqueName('gone-');
    const databaseName = `${platform.databasePrefix}sb_${name}`;
    const platformKey = await platform.keyFor('default');
    const firstAdmin = new URL('/admin/graphql', platform.gatewayUrl).toString();
    const secondAdmin = new URL('/admin/graphql', secondGateway.url).toString();

    const created = await post(firstAdmin, `mutation { createSandbox(name: "${name}") { adminKey { key } } }`, platformKey);
    const key: string = created.data.createSandbox.adminKey.key;
    // The second gateway now holds the key in its cache, and the sandbox has a database.
    const before = await post(secondGateway.url, UPSERT, key, person('ada@before.example'));
    expect(before.errors).toBeUndefined();
    expect(before.data.upsertPeople).toEqual([{ status: 'CREATED' }]);
    expect(await databaseNames(secondClient)).toContain(databaseName);

    const deleted = await post(firstAdmin, `mutation { deleteSandbox(name: "${name}") { name } }`, platformKey);
    expect(deleted.errors).toBeUndefined();
    // The signal that the other process has heard of the deletion (a change stream, not a timer).
    await expect.poll(() => secondDatabases.isSandboxDeleted(name)).toBe(true);

    const after = await post(secondGateway.url, UPSERT, key, person('ada@after.example'));
    expect(codes(after)).toEqual(['UNAUTHENTICATED']);
    expect(after.errors?.[0]?.message).toBe(deletedMessage(name));
    expect(after.data?.upsertPeople ?? null).toBeNull();
    // Refused at the gateway too, where the key is still cached: a query no subgraph answers.
    const edgeOnly = await post(secondGateway.url, '{ __typename }', key);
    expect(edgeOnly.errors?.map((e) => [e.extensions?.code, e.message])).toEqual([['UNAUTHENTICATED', deletedMessage(name)]]);
    const adminCall = await post(secondAdmin, 'mutation { createApiKey(name: "late", role: editor) { key } }', key);
    expect(adminCall.errors?.map((e) => [e.extensions?.code, e.message])).toEqual([['UNAUTHENTICATED', deletedMessage(name)]]);
    expect(adminCall.data ?? null).toBeNull();

    expect(await databaseNames(secondClient)).not.toContain(databaseName);
  });

  it("says the sandbox was deleted to a gateway that hears of its keys' revocation before the deletion", async () => {
    const name = uniqueName('unheard-');
    unheardDeletions.add(name);
    const platformKey = await platform.keyFor('default');
    const firstAdmin = new URL('/admin/graphql', platform.gatewayUrl).toString();
    const created = await post(firstAdmin, `mutation { createSandbox(name: "${name}") { adminKey { key } } }`, platformKey);
    const key: string = created.data.createSandbox.adminKey.key;
    // Answered at the second gateway's edge (no subgraph, which would say the sandbox is gone on its own).
    const edgeOnly = () => post(secondGateway.url, '{ __typename }', key);
    expect(await edgeOnly()).toEqual({ data: { __typename: 'Query' } });

    const deleted = await post(firstAdmin, `mutation { deleteSandbox(name: "${name}") { name } }`, platformKey);
    expect(deleted.errors).toBeUndefined();
    // The cached key is refused once the second gateway's change stream on API keys tells it of the revocation:
    // the only thing it can have heard, since the deletion is kept from it.
    await expect.poll(async () => codes(await edgeOnly()), { timeout: 10_000 }).toEqual(['UNAUTHENTICATED']);
    const after = await edgeOnly();
    expect(after.errors?.map((e) => [e.extensions?.code, e.message])).toEqual([['UNAUTHENTICATED', deletedMessage(name)]]);
    expect(after.data ?? null).toBeNull();
  });
});

describe('deleted sandboxes, followed by one process', () => {
  let client: MongoClient;
  let prefix: string;

  beforeAll(async () => {
    client = await connectTestClient();
    prefix = `${uniqueName('delsb')}_`;
  });

  afterAll(async () => {
    await dropDatabasesWithPrefix(client, prefix);
    await client.close();
  });

  /** A process's follower (alone: no Databases of this prefix follows beside it); `drops` lists every drop it has finished. */
  function follower(drops: string[] = [], later?: (run: () => void) => void) {
    return followDeletedSandboxes({
      repository: new TenancyRepository(client.db(`${prefix}platform`)),
      dropSandbox: async (name) => {
        await client.db(`${prefix}sb_${name}`).dropDatabase();
        drops.push(name);
      },
      sandboxesWithDatabase: async () =>
        (await databaseNames(client)).filter((db) => db.startsWith(`${prefix}sb_`)).map((db) => db.slice(`${prefix}sb_`.length)),
      ...(later ? { later } : {}),
    });
  }

  it('drops again what a write already under way recreated after the delete', async () => {
    const repository = new TenancyRepository(client.db(`${prefix}platform`));
    const drops: string[] = [];
    const redrops: Array<() => void> = [];
    const deletedSandboxes = follower(drops, (run) => redrops.push(run));
    try {
      await deletedSandboxes.ready();
      await repository.insertSandbox({ _id: 'inflight', createdAt: new Date(), createdBy: null });
      await repository.markSandboxDeleted('inflight', new Date());
      // The follower hears of it and drops the database at once.
      await expect.poll(() => drops).toEqual(['inflight']);
      expect(deletedSandboxes.has('inflight')).toBe(true);
      // A request that got its database handle before the deletion writes afterwards, recreating it.
      await client.db(`${prefix}sb_inflight`).collection('people').insertOne({ firstName: 'Late' });
      expect(await databaseNames(client)).toContain(`${prefix}sb_inflight`);
      // The second drop, when its time comes, removes it again.
      expect(redrops).toHaveLength(1);
      redrops[0]!();
      await expect.poll(() => drops).toEqual(['inflight', 'inflight']);
      expect(await databaseNames(client)).not.toContain(`${prefix}sb_inflight`);
    } finally {
      await deletedSandboxes.close();
    }
  });

  it('drops, when a process starts, the databases of deleted sandboxes that exist', async () => {
    const repository = new TenancyRepository(client.db(`${prefix}platform`));
    await repository.insertSandbox({ _id: 'leftover', createdAt: new Date(), createdBy: null, deletedAt: new Date() });
    await client.db(`${prefix}sb_leftover`).collection('people').insertOne({ firstName: 'Left' });
    const deletedSandboxes = follower();
    try {
      await deletedSandboxes.ready();
      expect(deletedSandboxes.has('leftover')).toBe(true);
      expect(await databaseNames(client)).not.toContain(`${prefix}sb_leftover`);
    } finally {
      await deletedSandboxes.close();
    }
  });
});
