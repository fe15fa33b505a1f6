/** Rules shared by this subgraph's bulk upserts of accounts and opportunities. */
import { ErrorCode } from '../../lib/errors.js';
import type { RecordError } from '../../lib/subgraph/recordResults.js';
import type { JsonObject } from '../../lib/subgraph/scalars.js';

/** For records whose write lost a race with another request for the same new source key. */
export const concurrentCreate = (what: string): RecordError => ({
  code: ErrorCode.Conflict,
  message: `Another request created this ${what} at the same time; send the record again to update it`,
  field: 'sourceKey',
});

/** `attributes` merged key by key: the stored ones, overwritten by the record's. */
export function mergeAttributes(stored: JsonObject | undefined, incoming: JsonObject | undefined): JsonObject | undefined {
  if (!incoming) return stored;
  return { ...stored, ...incoming };
}
