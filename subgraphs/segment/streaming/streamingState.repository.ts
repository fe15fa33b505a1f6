/**
 * `streamingState` of one sandbox: one document holding where the streaming evaluator is in
 * the sandbox's change stream (the resume token), the batch whose writes may have started,
 * pending full passes, and its status for the API. Writes are fenced: each names the lease
 * epoch of its writer, and a worker that claims the lease raises the stored epoch first, so
 * a worker that lost its lease can no longer move the token or start a batch.
 */
import type { Collection, Db } from 'mongodb';
import { STREAMING_STATE_COLLECTION, type InFlightBatch, type PendingPass, type StreamingStatus } from './layout.js';

export interface StreamingStateRecord {
  epoch: number;
  /** Opaque: the change stream's own token. Null before the first stream was opened. */
  resumeToken: unknown;
  /** Whether the first full pass over the sandbox was queued. */
  initialized: boolean;
  inFlight: InFlightBatch | null;
  passes: PendingPass[];
  status: StreamingStatus;
  /** Written at least every few seconds while a worker evaluates the sandbox (wall-clock time). */
  heartbeatAt: Date | null;
}

interface StateDocument extends StreamingStateRecord {
  _id: 'state';
}

export interface Checkpoint {
  resumeToken: unknown;
  initialized: boolean;
  passes: PendingPass[];
  status: StreamingStatus;
  heartbeatAt: Date;
}

const EMPTY_STATUS: StreamingStatus = { lagMs: 0, pendingChanges: 0, lastChangeAt: null };
const isDuplicateKey = (error: unknown) => typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000;

export class StreamingStateRepository {
  private readonly state: Collection<StateDocument>;

  constructor(db: Db) {
    this.state = db.collection<StateDocument>(STREAMING_STATE_COLLECTION);
  }

  /**
   * Raises the stored epoch to the claimed lease's and answers the state as it was left; null
   * when a later epoch is stored already (this claim is stale).
   */
  async takeOver(epoch: number): Promise<StreamingStateRecord | null> {
    try {
      const doc = await this.state.findOneAndUpdate(
        { _id: 'state', $or: [{ epoch: { $lt: epoch } }, { epoch: { $exists: false } }] },
        {
          $set: { epoch },
          $setOnInsert: { resumeToken: null, initialized: false, inFlight: null, passes: [], status: EMPTY_STATUS, heartbeatAt: null },
        },
        { upsert: true, returnDocument: 'after' },
      );
      if (!doc) return null;
      const { _id: _state, ...record } = doc;
      return record;
    } catch (error) {
      if (isDuplicateKey(error)) return null;
      throw error;
    }
  }

  /** Records the batch about to write memberships; false when the epoch moved on (the lease is lost). */
  async begin(epoch: number, batch: InFlightBatch): Promise<boolean> {
    const result = await this.state.updateOne({ _id: 'state', epoch }, { $set: { inFlight: batch } });
    return result.matchedCount === 1;
  }

  /** Saves progress after a batch's writes, clearing the batch in flight; false when the lease is lost. */
  async checkpoint(epoch: number, checkpoint: Checkpoint): Promise<boolean> {
    const result = await this.state.updateOne({ _id: 'state', epoch }, { $set: { ...checkpoint, inFlight: null } });
    return result.matchedCount === 1;
  }

  /** Forgets the batch in flight once its events are known to be written. */
  async clearInFlight(epoch: number): Promise<boolean> {
    const result = await this.state.updateOne({ _id: 'state', epoch }, { $set: { inFlight: null } });
    return result.matchedCount === 1;
  }

  /** The state as the API shows it; null before any worker evaluated the sandbox. */
  async read(): Promise<StreamingStateRecord | null> {
    const doc = await this.state.findOne({ _id: 'state' });
    if (!doc) return null;
    const { _id: _state, ...record } = doc;
    return record;
  }
}
