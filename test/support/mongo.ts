/** Per-suite MongoDB access: a client on the run's server and unique, dropped-after database names. */
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { MongoClient } from 'mongodb';

export function mongoUri(): string {
  return inject('mongoUri');
}

/** A name no other suite or run uses, e.g. for a sandbox or a database prefix. */
export function uniqueName(prefix: string): string {
  return `${prefix}${randomBytes(4).toString('hex')}`;
}

export async function connectTestClient(options: ConstructorParameters<typeof MongoClient>[1] = {}): Promise<MongoClient> {
  const client = new MongoClient(mongoUri(), { serverSelectionTimeoutMS: 10_000, ...options });
  await client.connect();
  return client;
}

/** Drops every database whose name starts with `prefix`; suites call it in afterAll. */
export async function dropDatabasesWithPrefix(client: MongoClient, prefix: string): Promise<void> {
  const { databases } = await client.db('admin').admin().listDatabases({ nameOnly: true });
  await Promise.all(
    databases.filter((d) => d.name.startsWith(prefix)).map((d) => client.db(d.name).dropDatabase()),
  );
}
