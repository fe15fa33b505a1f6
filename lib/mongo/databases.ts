/**
 * Maps sandboxes and platform data to MongoDB databases. Data-access code asks
 * for one sandbox's `Db` and is bound to it; there is no ambient tenant.
 */
import { MongoClient, type Db, type MongoClientOptions } from 'mongodb';
import { parseSandboxName, sandboxDatabaseName } from '../sandbox.js';

export interface Databases {
  readonly client: MongoClient;
  /** Platform data: sandboxes, API keys, jobs. */
  platform(): Db;
  /** One sandbox's own database. The name is validated again here, as a last line of defence. */
  sandbox(name: string): Db;
  /** Removes all of one sandbox's data (reset or delete of a sandbox). */
  dropSandbox(name: string): Promise<void>;
}

export function createDatabases(client: MongoClient, prefix: string): Databases {
  return {
    client,
    platform: () => client.db(`${prefix}platform`),
    sandbox: (name) => client.db(sandboxDatabaseName(`${prefix}sb_`, parseSandboxName(name))),
    dropSandbox: async (name) => {
      await client.db(sandboxDatabaseName(`${prefix}sb_`, parseSandboxName(name))).dropDatabase();
    },
  };
}

export async function connectMongo(uri: string, options: MongoClientOptions = {}): Promise<MongoClient> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 10_000, ...options });
  await client.connect();
  return client;
}
