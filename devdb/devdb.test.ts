import { afterEach, describe, expect, it } from 'vitest';
import { MongoClient } from 'mongodb';
import { startDevDb, type DevDb } from './index.js';

const started: DevDb[] = [];
const clients: MongoClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(started.splice(0).map((d) => d.stop()));
});

async function boot(options: Parameters<typeof startDevDb>[0] = {}): Promise<{ devdb: DevDb; client: MongoClient; logs: string[] }> {
  const logs: string[] = [];
  const devdb = await startDevDb({ logger: (m) => logs.push(m), ...options });
  started.push(devdb);
  const client = new MongoClient(devdb.uri, { serverSelectionTimeoutMS: 5000 });
  clients.push(client);
  await client.connect();
  return { devdb, client, logs };
}

describe('startDevDb', () => {
  it('listens on a free port, returns a usable uri and says that it is devdb', async () => {
    const { devdb, client, logs } = await boot();
    expect(devdb.port).toBeGreaterThan(0);
    expect(devdb.uri).toBe(`mongodb://127.0.0.1:${devdb.port}/?directConnection=true`);
    expect(await client.db('admin').command({ ping: 1 })).toMatchObject({ ok: 1 });
    expect(logs.join('\n')).toMatch(/devdb: in-memory MongoDB-compatible server listening \(data is lost on exit\) \{"uri":"mongodb:/);
  });

  it('logs through a structured logger as fields and a message, never as text', async () => {
    const entries: Array<{ level: string; fields: Record<string, unknown>; msg: string }> = [];
    const entry = (level: string) => (fields: Record<string, unknown>, msg: string): void => { entries.push({ level, fields, msg }); };
    const { client, devdb } = await boot({ logger: { info: entry('info'), warn: entry('warn'), error: entry('error') }, ttlIntervalMs: 20 });
    expect(entries[0]).toEqual({ level: 'info', fields: { uri: devdb.uri, replSetName: 'devdb' }, msg: 'in-memory MongoDB-compatible server listening (data is lost on exit)' });
    const coll = client.db('ttl').collection('c');
    await coll.createIndex({ at: 1 }, { expireAfterSeconds: 0 });
    await coll.insertOne({ at: new Date(Date.now() - 1000) });
    await expect.poll(() => entries.find((e) => e.msg === 'TTL index removed expired documents')).toEqual({
      level: 'info',
      fields: { ns: 'ttl.c', index: 'at_1', removed: 1 },
      msg: 'TTL index removed expired documents',
    });
    expect(entries.filter((e) => e.msg.startsWith('devdb:'))).toEqual([]);
  });

  it('stops idempotently and frees the port', async () => {
    const { devdb } = await boot();
    await devdb.stop();
    await devdb.stop();
    const again = await startDevDb({ port: devdb.port, logger: () => undefined });
    started.push(again);
    expect(again.port).toBe(devdb.port);
  });

  it('answers ChangeStreamHistoryLost (286) when the resume point left the bounded change log', async () => {
    const { client } = await boot({ changeLogSize: 10 });
    const coll = client.db('h').collection('c');
    const stream = coll.watch([], { maxAwaitTimeMS: 100 });
    await stream.tryNext();
    await coll.insertOne({ i: 0 });
    const first = await stream.next();
    await stream.close();
    for (let i = 1; i <= 100; i++) await coll.insertOne({ i });
    const resumed = coll.watch([], { resumeAfter: first._id });
    await expect(resumed.next()).rejects.toMatchObject({ code: 286 });
    await resumed.close();
  });

  it('removes TTL-expired documents on its own interval', async () => {
    const { client } = await boot({ ttlIntervalMs: 50 });
    const coll = client.db('ttl').collection('c');
    await coll.createIndex({ at: 1 }, { expireAfterSeconds: 0 });
    await coll.insertOne({ at: new Date(Date.now() - 1000) });
    await coll.insertOne({ at: new Date(Date.now() + 3_600_000) });
    await expect.poll(() => coll.countDocuments()).toBe(1);
    expect(await coll.countDocuments({ at: { $gt: new Date() } })).toBe(1);
  });
});
