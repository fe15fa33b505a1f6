/** A real HTTP server on a free loopback port for a mock destination, with the small helpers every mock needs. */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface MockRequest {
  method: string;
  url: URL;
  headers: IncomingMessage['headers'];
  body: string;
  /** When the request arrived (the mock's clock), before its body was read. */
  arrivedAt: number;
}

export interface MockReply {
  status: number;
  body?: unknown;
  /** Sent as is (e.g. a CSV file) instead of `body` as JSON; set its content-type in `headers`. */
  text?: string;
  headers?: Record<string, string>;
}

export interface RunningMock {
  /** `http://127.0.0.1:<port>` */
  url: string;
  close(): Promise<void>;
}

export async function startMockServer(handle: (request: MockRequest) => Promise<MockReply> | MockReply, now: () => number = Date.now): Promise<RunningMock> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const arrivedAt = now();
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request: MockRequest = {
        method: req.method ?? 'GET',
        url: new URL(req.url ?? '/', 'http://mock'),
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        arrivedAt,
      };
      Promise.resolve()
        .then(() => handle(request))
        .then(
          (reply) => send(res, reply),
          (error: unknown) => send(res, { status: 500, body: { message: String(error) } }),
        );
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function send(res: ServerResponse, reply: MockReply): void {
  if (reply.text !== undefined) {
    res.writeHead(reply.status, reply.headers);
    res.end(reply.text);
    return;
  }
  const text = reply.body === undefined ? '' : JSON.stringify(reply.body);
  res.writeHead(reply.status, { ...(text ? { 'content-type': 'application/json' } : {}), ...reply.headers });
  res.end(text);
}

export function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Counts events in a sliding window: how many arrived in (t - windowMs, t]. */
export class SlidingWindow {
  private readonly times: number[] = [];
  maxSeen = 0;

  constructor(readonly windowMs: number) {}

  /** Records an event at `at` unless `limit` are already in the window; false when refused. */
  tryAdd(at: number, limit: number): boolean {
    while (this.times.length && this.times[0]! <= at - this.windowMs) this.times.shift();
    if (this.times.length >= limit) return false;
    this.times.push(at);
    this.maxSeen = Math.max(this.maxSeen, this.times.length);
    return true;
  }

  /** Milliseconds until the oldest event leaves the window. */
  waitFrom(at: number): number {
    return this.times.length ? Math.max(0, this.times[0]! + this.windowMs - at) : 0;
  }
}
