/** Every document of a database, by collection, to show that an operation wrote nothing. */
import type { Db } from 'mongodb';
import { createDatabases } from '../../lib/mongo/databases.js';
import { MEMBERSHIP_EVENT_POSITIONS_COLLECTION, MEMBERSHIP_EVENTS_COLLECTION } from '../../subgraphs/segment/memberships.layout.js';
import { connectTestClient } from './mongo.js';

export type DatabaseSnapshot = Record<string, unknown[]>;

/**
 * Every collection, so one added later is covered without editing a list. Taken with the
 * membership event log at rest: its writer lets go of the log shortly after its last append,
 * and that release (a write to the log's counter) is not the operation's.
 */
export async function snapshotOf(db: Db): Promise<DatabaseSnapshot> {
  await eventLogAtRest(db);
  const names = (await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).sort();
  const snapshot: DatabaseSnapshot = {};
  for (const name of names) snapshot[name] = await db.collection(name).find({}).sort({ _id: 1 }).toArray();
  return snapshot;
}

async function eventLogAtRest(db: Db): Promise<void> {
  const counters = db.collection<{ _id: string; lockedBy?: string | null }>(MEMBERSHIP_EVENT_POSITIONS_COLLECTION);
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 20))) {
    if ((await counters.findOne({ _id: MEMBERSHIP_EVENTS_COLLECTION }))?.lockedBy == null) return;
  }
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
