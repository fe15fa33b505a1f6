/**
 * The per-process change-stream hub: one MongoDB change stream per watched
 * collection, shared by every subscriber of every sandbox in this process.
 *
 * A feed is a collection name watched in every database of the deployment (one
 * cluster-level `watch` filtered to that collection), fanned out in memory by
 * database name to the listeners of each sandbox. The stream opens with the
 * first listener and closes after the last one leaves, so idle processes hold
 * no cursor; after an error it resumes from its last resume token, so no change
 * is lost while it reconnects. Listeners never hold a database connection of
 * their own: 10,000 subscribers cost one cursor per collection.
 *
 * Every process (each gateway, each subgraph replica) runs its own hub on the
 * same MongoDB, which is how a change made anywhere reaches subscribers
 * everywhere; nothing here depends on being the only process.
 */
import type { ChangeStream, ChangeStreamDocument, Document, MongoClient, ResumeToken } from 'mongodb';
import { silentLogger, type Logger } from '../logger.js';

export type ChangeOperation = 'insert' | 'update' | 'replace' | 'delete';

/** What to watch, and how a change becomes what listeners receive. Define one per collection, once (module level). */
export interface ChangeFeedSpec<T> {
  /** The collection, watched in every database of the deployment. */
  readonly collection: string;
  readonly operations: readonly ChangeOperation[];
  /** `updateLookup` when listeners need the whole document after an update. */
  readonly fullDocument?: 'updateLookup';
  /** Maps a change to what listeners get; null skips it. Runs once per change, not per listener. */
  map(change: ChangeStreamDocument<Document>): T | null;
}

export interface ChangeListener<T> {
  /** Called synchronously, in commit order, for every change of the listener's database. Must not throw. */
  next(value: T): void;
  /** The stream failed for good (e.g. it could not resume); the listener has been removed. */
  error(error: Error): void;
}

export interface FeedSubscription {
  /** Removes the listener; the stream closes when it was the last. Idempotent. */
  leave(): void;
}

export interface ChangeFeedOptions {
  logger?: Logger;
  /** Attempts to reopen a failed stream (from its resume token) before listeners are told. @default 5 */
  maxRetries?: number;
  /** Delay before the first retry, doubled on each further one. @default 100 */
  retryDelayMs?: number;
}

interface Feed<T> {
  readonly spec: ChangeFeedSpec<T>;
  /** Listeners by database name. */
  readonly listeners: Map<string, Set<ChangeListener<T>>>;
  size: number;
  stream: ChangeStream<Document, ChangeStreamDocument<Document>> | undefined;
  token: ResumeToken | undefined;
  /** Resolves once the stream's cursor exists: a change committed after that is delivered. */
  opened: Promise<void>;
  closed: boolean;
}

export class ChangeFeedHub {
  private readonly feeds = new Map<ChangeFeedSpec<unknown>, Feed<unknown>>();
  private readonly logger: Logger;
  private readonly maxRetries: number;
  private readonly retryDelayMs: number;

  constructor(
    private readonly client: MongoClient,
    options: ChangeFeedOptions = {},
  ) {
    this.logger = (options.logger ?? silentLogger).child({ component: 'changeFeed' });
    this.maxRetries = options.maxRetries ?? 5;
    this.retryDelayMs = options.retryDelayMs ?? 100;
  }

  /** How many streams are open now (one per watched collection with listeners). */
  get openStreams(): number {
    return this.feeds.size;
  }

  /**
   * Adds a listener for one database's changes. Resolves once the shared stream
   * is open, so every change committed after the promise resolves reaches the
   * listener; rejects when the stream cannot be opened.
   */
  async listen<T>(spec: ChangeFeedSpec<T>, database: string, listener: ChangeListener<T>): Promise<FeedSubscription> {
    let feed = this.feeds.get(spec as ChangeFeedSpec<unknown>) as Feed<T> | undefined;
    if (!feed) {
      feed = this.start(spec);
      this.feeds.set(spec as ChangeFeedSpec<unknown>, feed as Feed<unknown>);
    }
    const current = feed;
    let set = current.listeners.get(database);
    if (!set) {
      set = new Set();
      current.listeners.set(database, set);
    }
    set.add(listener);
    current.size++;
    let left = false;
    const subscription: FeedSubscription = {
      leave: () => {
        if (left) return;
        left = true;
        this.remove(current, database, listener);
      },
    };
    try {
      await current.opened;
    } catch (error) {
      subscription.leave();
      throw error;
    }
    return subscription;
  }

  /** Closes every stream (process shutdown); listeners are not told. */
  async close(): Promise<void> {
    const feeds = [...this.feeds.values()];
    this.feeds.clear();
    await Promise.all(feeds.map((feed) => this.closeFeed(feed)));
  }

  private remove<T>(feed: Feed<T>, database: string, listener: ChangeListener<T>): void {
    const set = feed.listeners.get(database);
    if (!set?.delete(listener)) return;
    feed.size--;
    if (set.size === 0) feed.listeners.delete(database);
    if (feed.size === 0 && this.feeds.get(feed.spec as ChangeFeedSpec<unknown>) === (feed as Feed<unknown>)) {
      this.feeds.delete(feed.spec as ChangeFeedSpec<unknown>);
      void this.closeFeed(feed);
    }
  }

  private async closeFeed<T>(feed: Feed<T>): Promise<void> {
    feed.closed = true;
    // Closing fails when the client is already closed; the server then times the cursor out.
    await feed.stream?.close().catch(() => {});
  }

  private start<T>(spec: ChangeFeedSpec<T>): Feed<T> {
    let markOpened!: () => void;
    let failOpen!: (error: Error) => void;
    const feed: Feed<T> = {
      spec,
      listeners: new Map(),
      size: 0,
      stream: undefined,
      token: undefined,
      opened: new Promise<void>((resolve, reject) => {
        markOpened = resolve;
        failOpen = reject;
      }),
      closed: false,
    };
    feed.opened.catch(() => {}); // observed by listen(); never an unhandled rejection
    void this.run(feed, markOpened).catch((error: unknown) => {
      const failure = error instanceof Error ? error : new Error(String(error));
      failOpen(failure);
      this.fail(feed, failure);
    });
    return feed;
  }

  /** Reads the stream until it is closed, reopening it from its resume token after an error. */
  private async run<T>(feed: Feed<T>, markOpened: () => void): Promise<void> {
    const pipeline: Document[] = [
      { $match: { 'ns.coll': feed.spec.collection, operationType: { $in: [...feed.spec.operations] } } },
    ];
    let failures = 0;
    while (!feed.closed) {
      try {
        const stream = this.client.watch<Document, ChangeStreamDocument<Document>>(pipeline, {
          ...(feed.spec.fullDocument ? { fullDocument: feed.spec.fullDocument } : {}),
          ...(feed.token ? { resumeAfter: feed.token } : {}),
        });
        feed.stream = stream;
        if (feed.closed) {
          await stream.close().catch(() => {});
          return;
        }
        // tryNext runs the initial aggregate: from here on no committed change is missed.
        let change = await stream.tryNext();
        feed.token = stream.resumeToken ?? feed.token;
        markOpened();
        failures = 0;
        for (;;) {
          if (change) this.dispatch(feed, change);
          change = await stream.next();
          feed.token = stream.resumeToken ?? feed.token;
        }
      } catch (error) {
        if (feed.closed) return;
        failures++;
        // Without a token there is nothing to resume from; the first open failing is reported to listen().
        if (!feed.token || failures > this.maxRetries) throw error;
        this.logger.warn({ err: error, collection: feed.spec.collection, attempt: failures }, 'Change stream failed; resuming');
        await feed.stream?.close().catch(() => {});
        await new Promise((resolve) => setTimeout(resolve, this.retryDelayMs * 2 ** (failures - 1)));
      }
    }
  }

  private dispatch<T>(feed: Feed<T>, change: ChangeStreamDocument<Document>): void {
    const database = 'ns' in change && change.ns ? change.ns.db : undefined;
    if (database === undefined) return;
    const set = feed.listeners.get(database);
    if (!set || set.size === 0) return;
    const value = feed.spec.map(change);
    if (value === null) return;
    for (const listener of [...set]) {
      try {
        listener.next(value);
      } catch (error) {
        this.logger.error({ err: error, collection: feed.spec.collection }, 'A change listener threw');
      }
    }
  }

  private fail<T>(feed: Feed<T>, error: Error): void {
    if (this.feeds.get(feed.spec as ChangeFeedSpec<unknown>) === (feed as Feed<unknown>)) {
      this.feeds.delete(feed.spec as ChangeFeedSpec<unknown>);
    }
    feed.closed = true;
    this.logger.error({ err: error, collection: feed.spec.collection }, 'Change stream failed for good');
    const listeners = [...feed.listeners.values()].flatMap((set) => [...set]);
    feed.listeners.clear();
    feed.size = 0;
    for (const listener of listeners) listener.error(error);
  }
}

const hubs = new WeakMap<MongoClient, ChangeFeedHub>();

/**
 * The hub of a client: one per MongoClient, which in a deployment means one per
 * process. Tests that start two "processes" in one give each its own client.
 */
export function changeFeedFor(client: MongoClient, options?: ChangeFeedOptions): ChangeFeedHub {
  let hub = hubs.get(client);
  if (!hub) {
    hub = new ChangeFeedHub(client, options);
    hubs.set(client, hub);
  }
  return hub;
}
