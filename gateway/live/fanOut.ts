/**
 * One upstream result stream read once and handed to many subscribers, each
 * through its own queue, so a subscriber that reads slowly delays nobody else.
 *
 * The upstream is opened when the fan-out is made and read as fast as it
 * produces. `onSealed` runs once, when the stream stops being what a new
 * subscriber would get from a stream of its own: at its first result, its end
 * or error, when every subscriber has left, or `sealAfterMs` after it opened
 * (what it answers may depend on when it started). The upstream is closed when
 * the last subscriber leaves. `JoinableStreams`, at the end, keeps fan-outs by
 * key for as long as they may be joined: the gateway's two sharing layers
 * (sharedSubscriptions.ts, sharedSubgraphSubscriptions.ts) are built on it.
 */
import { GraphQLError, type ExecutionResult } from 'graphql';
import { ErrorCode } from '../../lib/errors.js';

/** What a subscription's execution answers: a single result (a refusal, say) or a stream of them. */
export type Upstream = ExecutionResult | AsyncIterable<ExecutionResult>;

export interface FanOutOptions<T> {
  open(): Promise<T | AsyncIterable<T>> | T | AsyncIterable<T>;
  /** Results held for one subscriber at most; past it that subscriber fails with `overflowError()`. */
  maxQueued: number;
  overflowError(): Error;
  sealAfterMs: number;
  onSealed(): void;
}

export interface FanOut<T> {
  /** A new subscriber: the upstream's single result as it is, or an iterator of its results. */
  join(options?: JoinOptions): Promise<T | AsyncIterableIterator<T>>;
}

export interface JoinOptions {
  /** Makes the subscriber leave, as its iterator's `return()` does. */
  signal?: AbortSignal;
  /** Runs if the subscriber falls `maxQueued` results behind, as it fails. */
  onOverflow?: () => void;
}

export function fanOut<T>(options: FanOutOptions<T>): FanOut<T> {
  const subscribers = new Set<Subscriber<T>>();
  let iterator: AsyncIterator<T> | undefined;
  let closed = false;
  let sealed = false;
  const seal = () => {
    if (sealed) return;
    sealed = true;
    clearTimeout(sealTimer);
    options.onSealed();
  };
  const sealTimer = setTimeout(seal, options.sealAfterMs);
  sealTimer.unref();
  const close = () => {
    if (closed) return;
    closed = true;
    seal();
    void Promise.resolve(iterator?.return?.()).catch(() => {});
  };
  const leave = (subscriber: Subscriber<T>) => {
    if (subscribers.delete(subscriber) && subscribers.size === 0) close();
  };

  const pump = async (source: AsyncIterator<T>) => {
    try {
      for (;;) {
        const step = await source.next();
        if (step.done || closed) break;
        seal();
        for (const subscriber of subscribers) subscriber.push(step.value);
      }
      seal();
      for (const subscriber of subscribers) subscriber.end();
    } catch (error) {
      seal();
      for (const subscriber of subscribers) subscriber.fail(error);
    } finally {
      closed = true;
      subscribers.clear();
    }
  };

  // A single result (a refusal, say) is everyone's answer; a stream is read once for all.
  const ready = new Promise<T | AsyncIterable<T>>((resolve) => resolve(options.open())).then(
    (result) => {
      if (!isAsyncIterable(result)) {
        seal();
        return { single: result };
      }
      iterator = result[Symbol.asyncIterator]();
      if (closed) void Promise.resolve(iterator.return?.()).catch(() => {});
      else void pump(iterator);
      return undefined;
    },
    (error: unknown) => {
      seal();
      throw error;
    },
  );
  ready.catch(() => {}); // each join observes it

  return {
    join({ signal, onOverflow } = {}) {
      const subscriber = new Subscriber<T>(options.maxQueued, options.overflowError, () => leave(subscriber), onOverflow);
      subscribers.add(subscriber);
      signal?.addEventListener('abort', () => void subscriber.return(), { once: true });
      return ready.then(
        (answer) => {
          if (!answer) return subscriber;
          subscribers.delete(subscriber);
          return answer.single;
        },
        (error: unknown) => {
          subscribers.delete(subscriber);
          throw error;
        },
      );
    },
  };
}

interface Waiter<T> {
  resolve(result: IteratorResult<T>): void;
  reject(error: unknown): void;
}

class Subscriber<T> implements AsyncIterableIterator<T> {
  private queue: T[] = [];
  private waiter: Waiter<T> | undefined;
  private ended = false;
  private failure: { error: unknown } | undefined;

  constructor(
    private readonly maxQueued: number,
    private readonly overflowError: () => Error,
    private readonly onLeave: () => void,
    private readonly onOverflow: (() => void) | undefined,
  ) {}

  push(value: T): void {
    if (this.ended || this.failure) return;
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = undefined;
      waiter.resolve({ value, done: false });
      return;
    }
    if (this.queue.length >= this.maxQueued) {
      this.queue = [];
      this.fail(this.overflowError());
      this.onLeave();
      this.onOverflow?.();
      return;
    }
    this.queue.push(value);
  }

  end(): void {
    this.ended = true;
    this.settle();
  }

  fail(error: unknown): void {
    if (this.ended) return;
    this.failure = { error };
    this.settle();
  }

  next(): Promise<IteratorResult<T>> {
    if (this.queue.length > 0) return Promise.resolve({ value: this.queue.shift() as T, done: false });
    if (this.failure) {
      const { error } = this.failure;
      this.ended = true;
      this.failure = undefined;
      return Promise.reject(error);
    }
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<T>> {
    this.ended = true;
    this.failure = undefined;
    this.queue = [];
    this.settle();
    this.onLeave();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(): Promise<IteratorResult<T>> {
    return this.return();
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }

  /** Answers a waiting `next()` once the stream ended or failed. */
  private settle(): void {
    const waiter = this.waiter;
    if (!waiter || this.queue.length > 0) return;
    this.waiter = undefined;
    if (this.failure) {
      const { error } = this.failure;
      this.ended = true;
      this.failure = undefined;
      waiter.reject(error);
    } else if (this.ended) {
      waiter.resolve({ value: undefined, done: true });
    }
  }
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

export interface JoinableStreamsOptions {
  /** Results held for one subscriber at most; past it that subscriber ends with LIMIT_EXCEEDED. */
  maxQueued: number;
  /** How long after it opened a stream that has sent nothing may still be joined. */
  joinWindowMs: number;
}

/**
 * Streams by what they answer, each joinable only while it would give a new
 * subscriber what a stream of its own would: it has sent nothing and opened at
 * most `joinWindowMs` ago. Past that a subscriber with the same key opens a new one.
 */
export class JoinableStreams {
  private readonly joinable = new Map<string, FanOut<ExecutionResult>>();

  constructor(private readonly options: JoinableStreamsOptions) {}

  /** Joins the joinable stream of `key`, or opens one with `open` (it outlives its opener: only its last subscriber leaving ends it). */
  join(key: string, open: () => Promise<Upstream> | Upstream, joinOptions?: JoinOptions): Promise<ExecutionResult | AsyncIterableIterator<ExecutionResult>> {
    let stream = this.joinable.get(key);
    if (!stream) {
      const { maxQueued, joinWindowMs } = this.options;
      const created = fanOut<ExecutionResult>({
        open,
        maxQueued,
        sealAfterMs: joinWindowMs,
        overflowError: () =>
          new GraphQLError(`More than ${maxQueued} events waited for this subscription; subscribe again with the last cursor`, {
            extensions: { code: ErrorCode.LimitExceeded },
          }),
        onSealed: () => {
          if (this.joinable.get(key) === created) this.joinable.delete(key);
        },
      });
      stream = created;
      this.joinable.set(key, stream);
    }
    return stream.join(joinOptions);
  }
}
