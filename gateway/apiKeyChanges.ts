/**
 * Changes to API keys (revoked, deleted, granted a permission), learnt by every
 * gateway process as soon as they are committed, through a change stream on
 * the platform's `apiKeys` collection (TenancyRepository.watchApiKeys). The key
 * cache (authenticate.ts) drops a changed key at once, so it may serve a cached
 * key while it re-reads it in the background without delaying a revocation.
 *
 * While the stream is not open (starting, reopening after an error, or a
 * server without change streams), `live()` is false and the cache serves
 * nothing past its lifetime. Changes missed while it was closed are covered by
 * a reset: every cached key is dropped when the stream (re)opens.
 */
import type { ChangeStreamDocument } from 'mongodb';
import type { Logger } from '../lib/logger.js';
import type { ApiKeyRecord, TenancyRepository } from '../lib/tenancy/tenancy.repository.js';

export interface ApiKeyChangeListener {
  /** The key with this id changed: forget it. */
  changed(keyId: string): void;
  /** Any key may have changed: forget them all. */
  reset(): void;
}

export interface ApiKeyChanges {
  /** Whether changes are being followed now. */
  live(): boolean;
  listen(listener: ApiKeyChangeListener): void;
  close(): Promise<void>;
}

const MAX_RETRY_DELAY_MS = 5_000;

/** A closed client refuses every operation with MongoNotConnectedError: following ends there. */
const clientClosed = (error: unknown) => error instanceof Error && error.name === 'MongoNotConnectedError';

export function followApiKeyChanges(repository: TenancyRepository, options: { logger?: Logger; retryDelayMs?: number } = {}): ApiKeyChanges {
  const listeners: ApiKeyChangeListener[] = [];
  let live = false;
  let stopped = false;
  let stream: ReturnType<TenancyRepository['watchApiKeys']> | undefined;

  const reset = () => listeners.forEach((listener) => listener.reset());

  const follow = async () => {
    let delay = options.retryDelayMs ?? 100;
    while (!stopped) {
      try {
        stream = repository.watchApiKeys();
        // The first tryNext opens the cursor: from here on no change is missed, so what was cached before is dropped.
        let change: ChangeStreamDocument<ApiKeyRecord> | null = await stream.tryNext();
        reset();
        live = true;
        delay = options.retryDelayMs ?? 100;
        while (!stopped) {
          if (change) learn(change);
          change = await stream.next();
        }
      } catch (error) {
        live = false;
        reset();
        await stream?.close().catch(() => {});
        if (stopped || clientClosed(error)) break;
        options.logger?.debug({ err: error }, 'API key change stream closed; reopening');
        await new Promise<void>((resolve) => setTimeout(resolve, delay).unref());
        delay = Math.min(delay * 2, MAX_RETRY_DELAY_MS);
      }
    }
    live = false;
  };

  const learn = (change: ChangeStreamDocument<ApiKeyRecord>) => {
    if (!('documentKey' in change)) {
      // drop, rename, invalidate...: the collection itself changed.
      reset();
      return;
    }
    if (change.operationType === 'update' && onlyLastUsed(change.updateDescription)) return;
    const id = change.documentKey._id;
    if (typeof id === 'string') listeners.forEach((listener) => listener.changed(id));
  };

  void follow();

  return {
    live: () => live && !stopped,
    listen: (listener) => void listeners.push(listener),
    async close() {
      stopped = true;
      live = false;
      await stream?.close().catch(() => {});
    },
  };
}

/** Authentication records when a key was last used (once a minute); that changes nothing about who it is. */
function onlyLastUsed(description: { updatedFields?: Record<string, unknown>; removedFields?: string[] } | undefined): boolean {
  if (!description || (description.removedFields?.length ?? 0) > 0) return false;
  const fields = Object.keys(description.updatedFields ?? {});
  return fields.length > 0 && fields.every((field) => field === 'lastUsedAt');
}
