/**
 * A shared change feed (changeFeed.ts) as the async iterator a GraphQL
 * subscription returns, for one database and an optional filter. Resolves once
 * the shared stream is open, so no change committed afterwards is missed;
 * `return()` leaves the feed at once (the stream closes with its last listener).
 *
 * At most `queueLimit` changes wait for a reader; a reader further behind gets
 * an error (`LIMIT_EXCEEDED`) instead of an ever-growing queue.
 */
import { DomainError, ErrorCode } from '../errors.js';
import type { ChangeFeedHub, ChangeFeedSpec } from './changeFeed.js';
import type { ChangeIterator } from './changeStream.js';

export async function feedIterator<T>(
  hub: ChangeFeedHub,
  spec: ChangeFeedSpec<T>,
  database: string,
  options: { filter?: (value: T) => boolean; queueLimit?: number } = {},
): Promise<ChangeIterator<T>> {
  const queueLimit = options.queueLimit ?? 1_000;
  const queue: T[] = [];
  let failure: Error | undefined;
  let closed = false;
  let wake: (() => void) | undefined;
  const signal = () => {
    const resolve = wake;
    wake = undefined;
    resolve?.();
  };
  const subscription = await hub.listen(spec, database, {
    next(value) {
      if (closed || failure || (options.filter && !options.filter(value))) return;
      if (queue.length >= queueLimit) {
        failure = new DomainError(ErrorCode.LimitExceeded, `The subscriber fell more than ${queueLimit} changes behind; subscribe again`);
        queue.length = 0;
      } else {
        queue.push(value);
      }
      signal();
    },
    error(error) {
      failure = error;
      signal();
    },
  });
  const done = (): IteratorResult<T> => ({ value: undefined, done: true });
  const close = () => {
    if (closed) return;
    closed = true;
    queue.length = 0;
    subscription.leave();
    signal();
  };
  const iterator: ChangeIterator<T> = {
    async next() {
      for (;;) {
        if (closed) return done();
        if (queue.length > 0) return { value: queue.shift() as T, done: false };
        if (failure) {
          const error = failure;
          close();
          throw error;
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
    },
    async return() {
      close();
      return done();
    },
    async throw(error?: unknown) {
      close();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
  return iterator;
}
