/** Which MongoDB a process (or a test run, with CDP_TEST_MONGO) uses, and the clear failures when a forced one is missing. */
import { describe, expect, it } from 'vitest';
import { MongoClient } from 'mongodb';
import { findMongo } from '../../lib/mongo/findMongo.js';
import { silentLogger } from '../../lib/logger.js';
import { testMongoChoice } from '../support/testMongoChoice.js';

describe('CDP_TEST_MONGO', () => {
  it('names one of devdb, memory-server and uri, or nothing', () => {
    expect(testMongoChoice(undefined)).toBeUndefined();
    expect(testMongoChoice('')).toBeUndefined();
    expect(testMongoChoice('devdb')).toBe('devdb');
    expect(testMongoChoice('memory-server')).toBe('memory-server');
    expect(testMongoChoice('uri')).toBe('uri');
    expect(() => testMongoChoice('mongod')).toThrow(/CDP_TEST_MONGO must be one of devdb, memory-server, uri .*"mongod"/);
  });
});

describe('findMongo', () => {
  it('uses MONGODB_URI first and does not connect to it', async () => {
    const found = await findMongo({ mongodbUri: 'mongodb://db.invalid:27017/?replicaSet=rs0', logger: silentLogger });
    expect(found.source).toBe('uri');
    expect(found.uri).toBe('mongodb://db.invalid:27017/?replicaSet=rs0');
  });

  it('refuses a required real deployment without MONGODB_URI', async () => {
    await expect(findMongo({ mongodbUri: undefined, only: 'uri', logger: silentLogger })).rejects.toThrow(
      'A real MongoDB was required but MONGODB_URI is not set',
    );
  });

  it('starts devdb when devdb is required, even with MONGODB_URI set, and it answers', async () => {
    const found = await findMongo({ mongodbUri: 'mongodb://db.invalid:27017', only: 'devdb', logger: silentLogger });
    try {
      expect(found.source).toBe('devdb');
      const client = await new MongoClient(found.uri, { serverSelectionTimeoutMS: 5_000 }).connect();
      try {
        expect(await client.db('admin').command({ ping: 1 })).toMatchObject({ ok: 1 });
      } finally {
        await client.close();
      }
    } finally {
      await found.stop();
    }
  });

  it('refuses a required mongodb-memory-server that cannot start, naming why', async () => {
    const previous = process.env.MONGOMS_SYSTEM_BINARY;
    // A binary that does not exist is the dependable way to make mongodb-memory-server unavailable on any machine.
    process.env.MONGOMS_SYSTEM_BINARY = '/nonexistent/mongod';
    try {
      await expect(
        findMongo({ mongodbUri: undefined, only: 'memory-server', logger: silentLogger, downloadTimeoutMs: 2_000 }),
      ).rejects.toThrow(/^mongodb-memory-server was required but is not available: .+/);
    } finally {
      if (previous === undefined) delete process.env.MONGOMS_SYSTEM_BINARY;
      else process.env.MONGOMS_SYSTEM_BINARY = previous;
    }
  });
});
