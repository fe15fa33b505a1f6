/**
 * Maps sandboxes and platform data to MongoDB databases. Data-access code asks
 * for one sandbox's `Db` and is bound to it; there is no ambient tenant.
 */
import { MongoClient, type Db, type MongoClientOptions } from 'mongodb';
import { parseSandboxName, sandboxDatabaseName } from '../sandbox.js';
import { followDeletedSandboxes, sandboxDeleted, type DeletedSandboxes } from '../tenancy/deletedSandboxes.js';
import { TenancyRepository } from '../tenancy/tenancy.repository.js';

export interface Databases {
  readonly client: MongoClient;
  /** Platform data: sandboxes, API keys, jobs. */
  platform(): Db;
  /**
   * One sandbox's own database. The name is validated again here, as a last line of defence,
   * and a deleted sandbox's is refused (UNAUTHENTICATED), so nothing writes it back into existence.
   */
  sandbox(name: string): Db;
  /** Removes all of one sandbox's data (reset or delete of a sandbox). */
  dropSandbox(name: string): Promise<void>;
  /** Whether this process knows the sandbox to be deleted (it learns within a change stream's delivery). */
  isSandboxDeleted(name: string): boolean;
}

export function createDatabases(client: MongoClient, prefix: string): Databases {
  const sandboxPrefix = `${prefix}sb_`;
  const platform = () => client.db(`${prefix}platform`);
  const databaseOf = (name: string) => client.db(sandboxDatabaseName(sandboxPrefix, parseSandboxName(name)));
  const dropSandbox = async (name: string) => {
    await databaseOf(name).dropDatabase();
  };
  const deleted = deletedSandboxesOf(client, prefix, () =>
    followDeletedSandboxes({
      repository: new TenancyRepository(platform()),
      dropSandbox,
      sandboxesWithDatabase: async () => {
        const { databases } = await client.db('admin').admin().listDatabases({ nameOnly: true });
        return databases.filter((db) => db.name.startsWith(sandboxPrefix)).map((db) => db.name.slice(sandboxPrefix.length));
      },
    }),
  );
  return {
    client,
    platform,
    sandbox: (name) => {
      const db = databaseOf(name);
      if (deleted.has(name)) throw sandboxDeleted(name);
      return db;
    },
    dropSandbox,
    isSandboxDeleted: (name) => deleted.has(name),
  };
}

/**
 * One follower of deleted sandboxes per client and prefix: however many `Databases` a process
 * makes over one client, it holds one change stream on `sandboxes`, ended when the client closes.
 */
const followersByClient = new WeakMap<MongoClient, Map<string, DeletedSandboxes>>();

function deletedSandboxesOf(client: MongoClient, prefix: string, follow: () => DeletedSandboxes): DeletedSandboxes {
  let followers = followersByClient.get(client);
  if (!followers) {
    followers = new Map();
    followersByClient.set(client, followers);
  }
  let deleted = followers.get(prefix);
  if (!deleted) {
    deleted = follow();
    followers.set(prefix, deleted);
  }
  return deleted;
}

export async function connectMongo(uri: string, options: MongoClientOptions = {}): Promise<MongoClient> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 10_000, ...options });
  await client.connect();
  return client;
}
