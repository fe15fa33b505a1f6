/**
 * `CDP_TEST_MONGO` forces which MongoDB a test run uses: `devdb`, `memory-server`
 * or `uri` (MONGODB_URI, required then). Unset, the run finds one as `npm start`
 * does: MONGODB_URI, then mongodb-memory-server, then devdb.
 */
import type { MongoSource } from '../../lib/mongo/findMongo.js';

const CHOICES: readonly MongoSource[] = ['devdb', 'memory-server', 'uri'];

export function testMongoChoice(value: string | undefined): MongoSource | undefined {
  if (value === undefined || value === '') return undefined;
  if ((CHOICES as readonly string[]).includes(value)) return value as MongoSource;
  throw new Error(`CDP_TEST_MONGO must be one of ${CHOICES.join(', ')} (or unset to find one); got ${JSON.stringify(value)}`);
}
