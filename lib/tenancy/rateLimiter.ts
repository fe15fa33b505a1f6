/**
 * Per-API-key request rate, counted in MongoDB so that every gateway replica
 * shares one budget per key (rate-limiter-flexible's fixed window). Once a key
 * is over its budget, further requests in that window are refused from memory,
 * without a database round trip.
 */
import type { Db } from 'mongodb';
import { RateLimiterMongo, RateLimiterRes } from 'rate-limiter-flexible';

export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export interface RateLimiter {
  consume(key: string): Promise<RateDecision>;
}

const COLLECTION = 'rateLimits';

export async function createMongoRateLimiter(platformDb: Db, requestsPerMinute: number): Promise<RateLimiter> {
  const collection = platformDb.collection(COLLECTION);
  await collection.createIndex({ expire: -1 }, { expireAfterSeconds: 0, name: 'expire_ttl' });
  await collection.createIndex({ key: 1 }, { unique: true, name: 'key_unique' });

  const limiter = new RateLimiterMongo({
    storeClient: platformDb,
    tableName: COLLECTION,
    keyPrefix: 'api',
    points: requestsPerMinute,
    duration: 60,
    inMemoryBlockOnConsumed: requestsPerMinute,
    disableIndexesCreation: true,
  });

  return {
    async consume(key) {
      try {
        await limiter.consume(key);
        return { allowed: true };
      } catch (rejection) {
        if (rejection instanceof RateLimiterRes) {
          return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)) };
        }
        throw rejection;
      }
    },
  };
}
