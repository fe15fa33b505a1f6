/** Every document of a database, by collection, to show that an operation wrote nothing. */
import type { Db } from 'mongodb';
import { createDatabases } from '../../lib/mongo/databases.js';
import { connectTestClient } from './mongo.js';

export type DatabaseSnapshot = Record<string, unknown[]>;

/** Every collection, so one added later is covered without editing a list. */
export async function snapshotOf(db: Db): Promise<DatabaseSnapshot> {
  const names = (await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).sort();
  const snapshot: DatabaseSnapshot = {};
  for (const name of names) snapshot[name] = await db.collection(name).find({}).sort({ _id: 1 }).toArray();
  return snapshot;
}

/** A sandbox's database on a test platform (anything with a `databasePrefix`). */
export async function databaseSnapshot(platform: { databasePrefix: string }, sandbox: string): Promise<DatabaseSnapshot> {
  const client = await connectTestClient();
  try {
    return await snapshotOf(createDatabases(client, platform.databasePrefix).sandbox(sandbox));
  } finally {
    await client.close();
  }
}
