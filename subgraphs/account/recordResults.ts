/**
 * Per-record results of this subgraph's bulk mutations. Like lib/subgraph/recordResults,
 * but a rejection also names the input field at fault, and records are planned in
 * memory and written together, so a result is built per record rather than per write.
 */
import { DomainError, ErrorCode } from '../../lib/errors.js';
import type { JsonObject } from '../../lib/subgraph/scalars.js';

export type WriteStatus = 'CREATED' | 'UPDATED';
export type UpsertStatus = WriteStatus | 'REJECTED';

export interface RecordError {
  code: string;
  message: string;
  field: string | null;
}

export function recordError(error: DomainError): RecordError {
  const field = error.details?.field;
  return { code: error.code, message: error.message, field: typeof field === 'string' ? field : null };
}

/** Runs one record's planning step; a DomainError rejects that record only, anything else fails the call. */
export function planRecord<T>(plan: () => T): { ok: T } | { error: RecordError } {
  try {
    return { ok: plan() };
  } catch (error) {
    if (error instanceof DomainError) return { error: recordError(error) };
    throw error;
  }
}

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
