/**
 * The async iterator a GraphQL subscription returns, over a source that pushes:
 * a shared change feed, the live membership log, a throttled count. The source
 * keeps what is ready in its own shape (a bounded queue, a replay page, the
 * latest size) and calls `wake()` when something may be ready; `next()` asks
 * `take()` for the next value and sleeps until the next wake-up when there is
 * none. A wake-up that comes while `take()` runs is kept, so none is lost.
 *
 * A failure (`fail()`, or `take()` throwing) is thrown once what is ready has
 * been taken, and closes the iterator: graphql-ws does not call `return()` on an
 * iterator whose `next()` threw, so the source is released here.
 */
import type { ChangeIterator } from './changeStream.js';

export interface PushSource<T> {
  /** The next value, or undefined when none is ready yet. */
  take(): T | undefined | Promise<T | undefined>;
  /** Releases the source (leaves the feed, clears timers); called once. */
  release(): void;
}

export interface PullIterator<T> {
  iterator: ChangeIterator<T>;
  /** Something may be ready: resume a waiting `next()`. */
  wake(): void;
  /** Ends the iterator with `error` once what is ready has been taken. */
  fail(error: Error): void;
  isClosed(): boolean;
}

export function pullIterator<T>(source: PushSource<T>): PullIterator<T> {
  let closed = false;
  let failure: Error | undefined;
  let woken = false;
  let waiter: (() => void) | undefined;

  const wake = () => {
    woken = true;
    const resolve = waiter;
    waiter = undefined;
    resolve?.();
  };
  const close = () => {
    if (closed) return;
    closed = true;
    source.release();
    wake();
  };
  const done = (): IteratorResult<T> => ({ value: undefined, done: true });

  const iterator: ChangeIterator<T> = {
    async next() {
      for (;;) {
        if (closed) return done();
        woken = false;
        let value: T | undefined;
        try {
          value = await source.take();
        } catch (error) {
          close();
          throw error;
        }
        if (closed) return done();
        if (value !== undefined) return { value, done: false };
        if (failure) {
          const error = failure;
          close();
          throw error;
        }
        if (woken) continue;
        await new Promise<void>((resolve) => {
          waiter = resolve;
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

  return {
    iterator,
    wake,
    fail(error) {
      failure ??= error;
      wake();
    },
    isClosed: () => closed,
  };
}
