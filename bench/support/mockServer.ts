/**
 * A real HTTP server on a free loopback port, under every mock API: the benchmarks'
 * (Marketo, Salesforce, LinkedIn, a webhook receiver) and the tests' (test/mocks,
 * which enforce each API's whole contract on top of it). It lives here because
 * benchmarks may not import test code, while tests may use this.
 */
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
  /** @default 200 */
  status?: number;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as is (e.g. a CSV file) instead of `body`; set its content-type in `headers`. */
  text?: string;
  headers?: Record<string, string>;
}

export interface RunningMock {
  /** `http://127.0.0.1:<port>` */
  url: string;
  close(): Promise<void>;
}

/** Serves `handle`'s replies (a handler that throws answers 500) until closed; `now` stamps each request's arrival. */
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
  const status = reply.status ?? 200;
  if (reply.text !== undefined) {
    res.writeHead(status, reply.headers);
    res.end(reply.text);
    return;
  }
  const text = reply.body === undefined ? '' : JSON.stringify(reply.body);
  res.writeHead(status, { ...(text ? { 'content-type': 'application/json' } : {}), ...reply.headers });
  res.end(text);
}
