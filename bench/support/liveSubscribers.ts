/**
 * The live benchmark's subscribers, on a thread of their own: clients are not
 * part of the platform, so their parsing and bookkeeping should not take the
 * platform's CPU (in production they run on other machines). The floor's plain
 * websocket clients and the gateway's graphql-ws clients both live here, so
 * both paths are measured the same way.
 *
 * Every message names when its change came due (epoch milliseconds): the floor's
 * in its `at` field, the gateway's in the member id (`<name>@<dueAt>`), so the
 * thread computes each latency without asking the writer.
 */
import { isMainThread, parentPort, type Worker } from 'node:worker_threads';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { startTsWorker } from './tsWorker.js';

export interface FloorSubscribers {
  kind: 'floor';
  /** `ws://` URL; each client adds `?segment=<n>`. */
  url: string;
  subscribers: number;
  segments: number;
}

export interface GatewaySubscribers {
  kind: 'gateway';
  wsUrl: string;
  authorization: string;
  query: string;
  /** Subscriber i subscribes to segmentIds[i % length]. */
  segmentIds: string[];
  subscribers: number;
  /** Passed as `after` by every subscriber, when given. */
  after?: string;
  /** Passed as `after` by subscriber i: afterEach[i] (instead of `after`). */
  afterEach?: string[];
  /** Subscriptions per websocket connection. @default 1 */
  perConnection?: number;
  /** Subscriber i names its operation `Subscriber<i>`: no two documents are alike, so none shares an execution. */
  distinct?: boolean;
}

type Request =
  | { id: number; op: 'open'; spec: FloorSubscribers | GatewaySubscribers }
  | { id: number; op: 'live' }
  | { id: number; op: 'count' }
  | { id: number; op: 'take' }
  | { id: number; op: 'close' };

/** When a member id made by `memberIdDueAt` came due. */
export function memberIdDueAt(name: string, dueAt: number): string {
  return `${name}@${dueAt}`;
}

/** Members of changes that are not measured: the warm-up load's, and the first event proving a subscription live. */
export const WARM_UP_PREFIX = 'warm';

function isWarmUp(memberId: string): boolean {
  return memberId.startsWith(WARM_UP_PREFIX);
}

function dueAtOf(memberId: string): number {
  return Number(memberId.slice(memberId.lastIndexOf('@') + 1));
}

const now = () => performance.timeOrigin + performance.now();

/** The main thread's handle on the subscriber thread. */
export class SubscriberThread {
  private readonly worker: Worker;
  private next = 0;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();

  constructor() {
    this.worker = startTsWorker(import.meta.url);
    this.worker.on('message', ({ id, value, error }: { id: number; value?: unknown; error?: string }) => {
      const waiting = this.pending.get(id);
      this.pending.delete(id);
      if (error !== undefined) waiting?.reject(new Error(error));
      else waiting?.resolve(value);
    });
    const failAll = (error: Error) => {
      for (const waiting of this.pending.values()) waiting.reject(error);
      this.pending.clear();
    };
    this.worker.on('error', failAll);
    this.worker.on('exit', (code) => failAll(new Error(`The subscriber thread exited with ${code}`)));
  }

  /** Connects and subscribes; resolves once every subscription is sent (for the floor, every socket open). */
  open(spec: FloorSubscribers | GatewaySubscribers): Promise<void> {
    return this.call({ op: 'open', spec }) as Promise<void>;
  }

  /** Resolves once every gateway subscriber has received a first event (the warm-up). */
  live(): Promise<void> {
    return this.call({ op: 'live' }) as Promise<void>;
  }

  /** Deliveries timed so far. */
  count(): Promise<number> {
    return this.call({ op: 'count' }) as Promise<number>;
  }

  /** The latencies timed so far, in milliseconds; the thread forgets them. */
  take(): Promise<number[]> {
    return this.call({ op: 'take' }) as Promise<number[]>;
  }

  /** Closes every client. */
  close(): Promise<void> {
    return this.call({ op: 'close' }) as Promise<void>;
  }

  async stop(): Promise<void> {
    await this.worker.terminate();
  }

  private call(request: Request extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never): Promise<unknown> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...request, id });
    });
  }
}

/** What runs on the thread. */
function serve(port: NonNullable<typeof parentPort>): void {
  let latencies: number[] = [];
  let sockets: WebSocket[] = [];
  let clients: Client[] = [];
  let live: Promise<void> = Promise.resolve();

  const openFloor = async (spec: FloorSubscribers) => {
    sockets = await Promise.all(
      Array.from({ length: spec.subscribers }, (_, i) => {
        const socket = new WebSocket(`${spec.url}?segment=${i % spec.segments}`);
        socket.on('message', (data) => {
          const { member, at } = JSON.parse(String(data)) as { member: string; at: number };
          if (!isWarmUp(member)) latencies.push(now() - at);
        });
        return new Promise<WebSocket>((resolve, reject) => {
          socket.once('open', () => resolve(socket));
          socket.once('error', reject);
        });
      }),
    );
  };

  const openGateway = (spec: GatewaySubscribers) => {
    const perConnection = spec.perConnection ?? 1;
    const firsts: Array<Promise<void>> = [];
    let client: Client | undefined;
    for (let i = 0; i < spec.subscribers; i++) {
      if (i % perConnection === 0) {
        client = createClient({ url: spec.wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: spec.authorization }, retryAttempts: 0, lazy: false, onNonLazyError: () => {} });
        clients.push(client);
      }
      const after = spec.afterEach?.[i] ?? spec.after;
      const variables = { segmentId: spec.segmentIds[i % spec.segmentIds.length]!, ...(after ? { after } : {}) };
      firsts.push(
        new Promise<void>((resolve, reject) => {
          let first = true;
          client!.subscribe<{ segmentMembershipChanged: { memberId: string } }>(
            { query: spec.distinct ? spec.query.replace(/^subscription\b/, `subscription Subscriber${i}`) : spec.query, variables },
            {
              next: (result) => {
                const member = result.data?.segmentMembershipChanged.memberId;
                if (member === undefined) return;
                if (first) {
                  first = false;
                  resolve();
                  return;
                }
                if (!isWarmUp(member)) latencies.push(now() - dueAtOf(member));
              },
              error: (error) => reject(error instanceof Error ? error : new Error(JSON.stringify(error))),
              complete: () => {},
            },
          );
        }),
      );
    }
    live = Promise.all(firsts).then(() => {});
    live.catch(() => {});
  };

  const handle = async (request: Request): Promise<unknown> => {
    switch (request.op) {
      case 'open':
        if (request.spec.kind === 'floor') await openFloor(request.spec);
        else openGateway(request.spec);
        return undefined;
      case 'live':
        return live;
      case 'count':
        return latencies.length;
      case 'take': {
        const taken = latencies;
        latencies = [];
        return taken;
      }
      case 'close':
        for (const socket of sockets) socket.close();
        await Promise.all(clients.map((client) => client.dispose()));
        sockets = [];
        clients = [];
        return undefined;
    }
  };

  port.on('message', (request: Request) => {
    handle(request).then(
      (value) => port.postMessage({ id: request.id, value }),
      (error: unknown) => port.postMessage({ id: request.id, error: error instanceof Error ? error.message : String(error) }),
    );
  });
}

if (!isMainThread && parentPort) serve(parentPort);
