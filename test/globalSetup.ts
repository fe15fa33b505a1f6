/**
 * Finds MongoDB once for the whole test run, exactly as `npm start` does
 * (MONGODB_URI, then mongodb-memory-server, then devdb), and hands the
 * connection string to every suite through `inject('mongoUri')`.
 */
import type { TestProject } from 'vitest/node';
import { findMongo } from '../lib/mongo/findMongo.js';
import { createLogger } from '../lib/logger.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const logger = createLogger({ name: 'test-setup', level: process.env.CDP_LOG_LEVEL ?? 'warn' });
  const mongo = await findMongo({ mongodbUri: process.env.MONGODB_URI, logger, downloadTimeoutMs: 5_000 });
  project.provide('mongoUri', mongo.uri);
  project.provide('mongoSource', mongo.source);
  return () => mongo.stop();
}
