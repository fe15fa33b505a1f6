/**
 * Per-record results of bulk mutations (upsertPeople, upsertAccounts, ...): one
 * result per input record, in input order. A rejected record carries a typed
 * error and has written nothing; the others are kept.
 */
import { badInput, DomainError } from '../errors.js';

export const MAX_RECORDS_PER_CALL = 1000;

export type UpsertStatus = 'CREATED' | 'UPDATED' | 'REJECTED';

export interface RecordError {
  code: string;
  message: string;
}

export interface RecordOutcome<T> {
  status: UpsertStatus;
  record: T | null;
  error: RecordError | null;
}

export function assertBatchSize(records: readonly unknown[], what: string): void {
  if (records.length > MAX_RECORDS_PER_CALL) {
    throw badInput(`Send at most ${MAX_RECORDS_PER_CALL} ${what} per call (got ${records.length}); split the batch`, {
      limit: MAX_RECORDS_PER_CALL,
    });
  }
}

/**
 * Runs one record's write. Domain errors reject that record only; anything else
 * (the database is down) fails the whole call, since later records would fail too.
 */
export async function processRecord<T>(write: () => Promise<{ status: 'CREATED' | 'UPDATED'; record: T }>): Promise<RecordOutcome<T>> {
  try {
    const { status, record } = await write();
    return { status, record, error: null };
  } catch (error) {
    if (error instanceof DomainError) {
      return { status: 'REJECTED', record: null, error: { code: error.code, message: error.message } };
    }
    throw error;
  }
}
