/**
 * A MongoDB change stream as the async iterator a GraphQL subscription returns.
 * Not an async generator on purpose: a generator cannot be returned while it
 * awaits the next change, so an unsubscribing client would keep the change
 * stream open until the next change arrived. Here `return()` closes it at once.
 */
import type { ChangeStream, ChangeStreamDocument, Document } from 'mongodb';

export interface ChangeIterator<T> extends AsyncIterableIterator<T> {
  return(): Promise<IteratorResult<T>>;
}

/**
 * Opens the stream (so no change after this call resolves is missed), then maps
 * each change; `map` returning null skips a change.
 */
export async function openChangeIterator<TSchema extends Document, T>(
  stream: ChangeStream<TSchema, ChangeStreamDocument<TSchema>>,
  map: (change: ChangeStreamDocument<TSchema>) => T | null,
): Promise<ChangeIterator<T>> {
  let closed = false;
  const done = (): IteratorResult<T> => ({ value: undefined, done: true });
  const close = async () => {
    if (closed) return;
    closed = true;
    // Closing can fail when the client is already closed (shutdown); the server
    // then times the cursor out itself, so there is nothing left to do.
    await stream.close().catch(() => {});
  };

  // tryNext runs the initial aggregate, so the cursor exists before we return.
  let buffered: ChangeStreamDocument<TSchema> | null;
  try {
    buffered = await stream.tryNext();
  } catch (error) {
    await close();
    throw error;
  }

  const iterator: ChangeIterator<T> = {
    async next() {
      while (!closed) {
        let change: ChangeStreamDocument<TSchema>;
        if (buffered) {
          change = buffered;
          buffered = null;
        } else {
          try {
            change = await stream.next();
          } catch (error) {
            if (closed) return done();
            await close();
            throw error;
          }
        }
        const value = map(change);
        if (value !== null) return { value, done: false };
      }
      return done();
    },
    async return() {
      await close();
      return done();
    },
    async throw(error?: unknown) {
      await close();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
  return iterator;
}
