/**
 * Shared helpers for the data-layer conformance suites. They run unchanged against devdb and a real
 * replica set (MONGODB_URI); each suite works in its own databases and drops them afterwards.
 */
import { inject } from 'vitest';
import { MongoClient, type Db } from 'mongodb';
import { uniqueName } from '../support/mongo.js';

export function mongoUri(): string {
  return inject('mongoUri');
}

/** True when the run uses devdb; for the few checks that only make sense there (or only on mongod). */
export function onDevDb(): boolean {
  return inject('mongoSource') === 'devdb';
}

export interface ConformanceContext {
  client: MongoClient;
  db: Db;
  /** Another database for this suite (cross-database change streams, listDatabases). */
  otherDb(): Db;
  close(): Promise<void>;
}

/** A client and a fresh database named `conf_<suite>_<random>`; `close` drops every database it made. */
export async function openConformance(suite: string): Promise<ConformanceContext> {
  const client = new MongoClient(mongoUri(), { serverSelectionTimeoutMS: 10_000 });
  await client.connect();
  const names = [uniqueName(`conf_${suite}_`)];
  return {
    client,
    db: client.db(names[0]),
    otherDb: () => {
      const name = uniqueName(`conf_${suite}_`);
      names.push(name);
      return client.db(name);
    },
    close: async () => {
      await Promise.all(names.map((n) => client.db(n).dropDatabase()));
      await client.close();
    },
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `check` returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 10_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(everyMs);
  }
}
