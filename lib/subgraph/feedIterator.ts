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
import type { ChangeFeedHub, ChangeFeedSpec, FeedSubscription } from './changeFeed.js';
import type { ChangeIterator } from './changeStream.js';
import { pullIterator } from './pullIterator.js';

export async function feedIterator<T>(
  hub: ChangeFeedHub,
  spec: ChangeFeedSpec<T>,
  database: string,
  options: { filter?: (value: T) => boolean; queueLimit?: number } = {},
): Promise<ChangeIterator<T>> {
  const queueLimit = options.queueLimit ?? 1_000;
  let queue: T[] = [];
  let subscription: FeedSubscription | undefined;
  const pull = pullIterator<T>({
    take: () => queue.shift(),
    release() {
      queue = [];
      subscription?.leave();
    },
  });
  let overflowed = false;
  subscription = await hub.listen(spec, database, {
    next(value) {
      if (pull.isClosed() || overflowed || (options.filter && !options.filter(value))) return;
      if (queue.length >= queueLimit) {
        overflowed = true;
        queue = [];
        pull.fail(new DomainError(ErrorCode.LimitExceeded, `The subscriber fell more than ${queueLimit} changes behind; subscribe again`));
        return;
      }
      queue.push(value);
      pull.wake();
    },
    error: (error) => pull.fail(error),
  });
  return pull.iterator;
}
