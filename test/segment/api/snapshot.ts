/** Every document of a sandbox database, by collection, to show that an operation wrote nothing. */
import { createDatabases } from '../../../lib/mongo/databases.js';
import { connectTestClient } from '../../support/mongo.js';

export async function databaseSnapshot(platform: { databasePrefix: string }, sandbox: string): Promise<Record<string, unknown[]>> {
  const client = await connectTestClient();
  try {
    const db = createDatabases(client, platform.databasePrefix).sandbox(sandbox);
    const names = (await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).sort();
    const snapshot: Record<string, unknown[]> = {};
    for (const name of names) snapshot[name] = await db.collection(name).find({}).sort({ _id: 1 }).toArray();
    return snapshot;
  } finally {
    await client.close();
  }
}
