/**
 * A subscription's results with a bounded queue between the producer and a
 * slow consumer.
 *
 * Upstream iterators (a websocket client to a subgraph, say) buffer without
 * limit when nobody pulls, so a consumer that reads slowly would make the
 * process hold every event it has not sent yet. Here the source is read as fast
 * as it produces, into a queue of at most `limit` results that the consumer
 * drains at its own pace; when the queue would exceed the limit the source is
 * closed, `onOverflow` runs (the caller closes the connection with a
 * documented code) and the stream ends. Memory per subscription is therefore
 * bounded by `limit` results however slow the consumer is.
 */
export interface BoundedStreamOptions {
  /** Results held for the consumer at most. */
  limit: number;
  /** The consumer fell `limit` results behind; the stream has ended. */
  onOverflow: () => void;
}

export function boundedStream<T>(source: AsyncIterable<T>, options: BoundedStreamOptions): AsyncIterableIterator<T> & {
  return(): Promise<IteratorResult<T>>;
} {
  const queue: T[] = [];
  let finished = false;
  let failure: { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  const iterator = source[Symbol.asyncIterator]();
  const signal = () => {
    const resolve = wake;
    wake = undefined;
    resolve?.();
  };
  const stopSource = () => {
    void Promise.resolve(iterator.return?.()).catch(() => {});
  };

  void (async () => {
    try {
      while (!finished) {
        const result = await iterator.next();
        if (result.done || finished) break;
        if (queue.length >= options.limit) {
          finished = true;
          queue.length = 0;
          stopSource();
          options.onOverflow();
          break;
        }
        queue.push(result.value);
        signal();
      }
    } catch (error) {
      if (!finished) failure = { error };
    } finally {
      finished = true;
      signal();
    }
  })();

  const done = (): IteratorResult<T> => ({ value: undefined, done: true });
  return {
    async next(): Promise<IteratorResult<T>> {
      for (;;) {
        if (queue.length > 0) return { value: queue.shift() as T, done: false };
        if (failure) {
          const { error } = failure;
          failure = undefined;
          throw error;
        }
        if (finished) return done();
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
    },
    async return(): Promise<IteratorResult<T>> {
      if (!finished) {
        finished = true;
        stopSource();
      }
      queue.length = 0;
      signal();
      return done();
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
