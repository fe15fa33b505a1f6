/** Rules shared by this subgraph's bulk upserts of accounts and opportunities. */
import { ErrorCode } from '../../lib/errors.js';
import type { RecordError } from '../../lib/subgraph/recordResults.js';
import type { JsonObject } from '../../lib/subgraph/scalars.js';
import type { SourcedWrite } from './accounts.repository.js';

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

/**
 * Most recent wins per record: a record the source changed before the stored version was
 * changed is older news and must not overwrite it. Records without `sourceUpdatedAt` always apply.
 */
export function isOlderThanStored(stored: Date | undefined, incoming: Date | undefined): boolean {
  return stored instanceof Date && incoming instanceof Date && incoming.getTime() < stored.getTime();
}

/**
 * Adds one planned record to the batch's write for its id. `values` is false for a record older
 * than the stored version: it only adds its new source keys. The write is guarded by the latest
 * `sourceUpdatedAt` of its records, unless one of them had none (today's last-write-wins).
 */
export function addToWrite<F extends object>(
  writes: Map<string, SourcedWrite<F>>,
  planned: { id: string; create: boolean; fields: F; attributes?: JsonObject; addSourceKeys: string[]; sourceUpdatedAt?: Date; values: boolean; now: Date },
): void {
  const write = writes.get(planned.id) ?? { id: planned.id, create: planned.create, set: {} as F, attributes: {}, addSourceKeys: [], now: planned.now };
  if (planned.values) {
    Object.assign(write.set, planned.fields);
    Object.assign(write.attributes, planned.attributes);
    const incoming = planned.sourceUpdatedAt ?? null;
    if (write.ifNotNewerThan === undefined) write.ifNotNewerThan = incoming;
    else if (write.ifNotNewerThan !== null) write.ifNotNewerThan = incoming && new Date(Math.max(incoming.getTime(), write.ifNotNewerThan.getTime()));
  }
  write.addSourceKeys.push(...planned.addSourceKeys);
  writes.set(planned.id, write);
}
