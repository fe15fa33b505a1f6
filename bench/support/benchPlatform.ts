/**
 * The platform as the benchmarks start it: MONGODB_URI or devdb in a child
 * process, every part on a free port, no worker (benchmarks start workers as
 * child processes when they measure one), a rate limit no benchmark reaches,
 * and silent logs unless BENCH_LOG names a level (BENCH_LOG=error shows the
 * platform's errors, e.g. a failed streaming call).
 */
import { randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { loadConfig } from '../../lib/config.js';
import { createLogger, silentLogger } from '../../lib/logger.js';
import { startPlatform, type RunningPlatform } from '../../platform/startPlatform.js';
import { startDevDbChild } from './processes.js';

export interface BenchPlatformOptions {
  /** Prefix of every database the platform creates; the benchmark drops them after. */
  dbPrefix: string;
  /** Child processes the benchmark stops at the end (devdb joins them). */
  children: ChildProcess[];
  /** Settings on top of the benchmark defaults (CDP_* variables). */
  env?: Record<string, string>;
}

export interface BenchPlatform {
  platform: RunningPlatform;
  mongoUri: string;
  /** The gateway secret, for benchmarks that start a worker process beside the platform. */
  gatewaySecret: string;
}

export async function startBenchPlatform(options: BenchPlatformOptions): Promise<BenchPlatform> {
  const mongoUri = process.env.MONGODB_URI || (await startDevDbChild(options.children));
  const gatewaySecret = randomBytes(32).toString('base64url');
  const config = loadConfig({
    CDP_MODE: 'test',
    CDP_DB_PREFIX: options.dbPrefix,
    CDP_LOG_LEVEL: 'silent',
    CDP_GATEWAY_SECRET: gatewaySecret,
    CDP_RATE_LIMIT_PER_MINUTE: '100000000',
    ...options.env,
  });
  const platform = await startPlatform({
    config,
    logger: process.env.BENCH_LOG ? createLogger({ name: 'bench', level: process.env.BENCH_LOG }) : silentLogger,
    mongoUri,
    host: '127.0.0.1',
    ports: { gateway: 0, profile: 0, account: 0, segment: 0, destination: 0 },
    worker: false,
    graphiql: false,
  });
  return { platform, mongoUri, gatewaySecret };
}
