/**
 * Per-record results of bulk mutations (upsertPeople, upsertAccounts, ...): one
 * result per input record, in input order. A rejected record carries a typed
 * error naming the input field at fault, and has written nothing; the others
 * are kept.
 */
import { badInput, DomainError } from '../errors.js';

export const MAX_RECORDS_PER_CALL = 1000;

export type RecordStatus = 'CREATED' | 'UPDATED' | 'MERGED' | 'REJECTED';

export interface RecordError {
  code: string;
  message: string;
  field: string | null;
}

export function assertBatchSize(records: readonly unknown[], what: string): void {
  if (records.length > MAX_RECORDS_PER_CALL) {
    throw badInput(`Send at most ${MAX_RECORDS_PER_CALL} ${what} per call (got ${records.length}); split the batch`, {
      limit: MAX_RECORDS_PER_CALL,
    });
  }
}

export function recordError(error: DomainError): RecordError {
  const field = error.details?.field;
  return { code: error.code, message: error.message, field: typeof field === 'string' ? field : null };
}

/**
 * Runs one record's validation or planning step. A DomainError rejects that
 * record only; anything else (the database is down) fails the whole call,
 * since later records would fail too.
 */
export function planRecord<T>(plan: () => T): { ok: T } | { error: RecordError } {
  try {
    return { ok: plan() };
  } catch (error) {
    if (error instanceof DomainError) return { error: recordError(error) };
    throw error;
  }
}
