/**
 * Finds MongoDB once for the whole test run and hands the connection string to
 * every suite through `inject('mongoUri')`. `CDP_TEST_MONGO=devdb|memory-server|uri`
 * forces one kind (and fails clearly when it cannot be had); unset, the run
 * finds one exactly as `npm start` does (MONGODB_URI, then mongodb-memory-server,
 * then devdb).
 */
import type { TestProject } from 'vitest/node';
import { findMongo } from '../lib/mongo/findMongo.js';
import { createLogger } from '../lib/logger.js';
import { testMongoChoice } from './support/testMongoChoice.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const logger = createLogger({ name: 'test-setup', level: process.env.CDP_LOG_LEVEL ?? 'warn' });
  const mongo = await findMongo({
    mongodbUri: process.env.MONGODB_URI,
    only: testMongoChoice(process.env.CDP_TEST_MONGO),
    logger,
    downloadTimeoutMs: 5_000,
  });
  project.provide('mongoUri', mongo.uri);
  project.provide('mongoSource', mongo.source);
  return () => mongo.stop();
}
