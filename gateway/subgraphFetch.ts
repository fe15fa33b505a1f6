/**
 * The fetch the gateway runtime uses for queries and mutations to subgraphs:
 * `node:http` on the gateway's keep-alive agent, without the WHATWG request
 * ponyfill, URL re-parsing and stream piping of the generic fetch, which cost
 * more CPU per subgraph call than the call itself. It handles exactly what the
 * HTTP executor sends (POST with a string body, or GET), and answers with the
 * runtime's own Response class, so every `onFetch` hook sees a standard
 * Response. A 3xx answer is returned as it is (subgraphs do not redirect);
 * gzip, deflate and brotli bodies are decompressed; an event stream or a
 * multipart answer is passed on as a stream.
 *
 * Each subgraph executor gives all its fetches one long-lived AbortSignal, so
 * an abort listener per fetch in flight would make Node warn
 * (`MaxListenersExceededWarning`) past ten concurrent fetches although the
 * listeners are removed as each fetch ends. Such signals opt out of the
 * listener limit, as Node's own long-lived signals do.
 */
import { setMaxListeners } from 'node:events';
import { request, type Agent, type ClientRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { brotliDecompress, gunzip, inflate, inflateRaw } from 'node:zlib';
import { promisify } from 'node:util';

export interface SubgraphFetchInit {
  method?: string;
  headers?: Record<string, string | undefined> | Iterable<[string, string]>;
  body?: unknown;
  signal?: AbortSignal | null;
}

type ResponseConstructor = new (body: Buffer | IncomingMessage | null, init: { status: number; statusText: string; headers: IncomingMessage['headers'] }) => Response;

/** `context` is the execution context the runtime passes to its fetch as a third argument. */
export type SubgraphFetch = (url: string, init?: SubgraphFetchInit, context?: unknown) => Promise<Response>;

const DECOMPRESS: Readonly<Record<string, (buffer: Buffer) => Promise<Buffer>>> = {
  gzip: promisify(gunzip),
  'x-gzip': promisify(gunzip),
  deflate: promisify(inflate),
  'deflate-raw': promisify(inflateRaw),
  br: promisify(brotliDecompress),
};

/** Subgraph URLs are few and fixed; a bound keeps a misconfiguration from growing the map. */
const MAX_PARSED_URLS = 256;

/**
 * `responseClass` is read at the first fetch: the runtime's Response class,
 * known once the runtime exists (which itself needs this fetch).
 * `contextHeaders` adds headers taken from the request's context as each request goes out.
 */
export function createSubgraphFetch(
  agent: Agent,
  responseClass: () => ResponseConstructor,
  contextHeaders?: (context: unknown) => Record<string, string> | undefined,
): SubgraphFetch {
  const parsedUrls = new Map<string, URL>();
  const unlimitedSignals = new WeakSet<AbortSignal>();

  const parse = (url: string) => {
    let parsed = parsedUrls.get(url);
    if (!parsed) {
      parsed = new URL(url);
      if (parsed.protocol !== 'http:') throw new TypeError(`Subgraph URL ${url} is not http: (use a TLS-terminating proxy in front of subgraphs)`);
      if (parsedUrls.size >= MAX_PARSED_URLS) parsedUrls.clear();
      parsedUrls.set(url, parsed);
    }
    return parsed;
  };

  const send = (url: string, init: SubgraphFetchInit, context: unknown, retried: boolean): Promise<Response> =>
    new Promise<Response>((resolve, reject) => {
      const signal = init.signal ?? undefined;
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const body = requestBody(init.body);
      const target = parse(url);
      const headers = requestHeaders(init.headers);
      const fromContext = contextHeaders?.(context);
      if (fromContext) for (const name in fromContext) headers[name] ??= fromContext[name];
      if (body !== undefined) headers['content-length'] = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
      const outgoing = request({
        agent,
        protocol: target.protocol,
        hostname: target.hostname.startsWith('[') ? target.hostname.slice(1, -1) : target.hostname,
        port: target.port,
        path: target.pathname + target.search,
        method: init.method ?? 'GET',
        headers,
      });
      const call = new SubgraphCall(url, outgoing, signal, resolve, reject, responseClass);
      // A kept-alive socket the subgraph closed as this request went out: it never read the request,
      // so it is sent once more on a fresh socket (what Node's documentation advises for reused sockets).
      call.retry = retried ? undefined : () => send(url, init, context, true);
      if (signal && !unlimitedSignals.has(signal)) {
        unlimitedSignals.add(signal);
        setMaxListeners(0, signal);
      }
      outgoing.end(body);
    });

  return (url, init = {}, context) => send(url, init, context, false);
}

/**
 * One subgraph request and its answer. Its handlers are methods rather than
 * closures made per request: fewer allocations on the gateway's hottest path.
 */
class SubgraphCall {
  retry: (() => Promise<Response>) | undefined;
  private answered = false;
  private readonly chunks: Buffer[] = [];
  private readonly onAbort: (() => void) | undefined;

  constructor(
    private readonly url: string,
    private readonly outgoing: ClientRequest,
    private readonly signal: AbortSignal | undefined,
    private readonly resolve: (response: Response | Promise<Response>) => void,
    private readonly reject: (error: unknown) => void,
    private readonly responseClass: () => ResponseConstructor,
  ) {
    outgoing.once('response', (incoming: IncomingMessage) => this.receive(incoming));
    outgoing.once('error', (error: Error) => this.fail(error));
    if (signal) {
      this.onAbort = () => outgoing.destroy(signal.reason instanceof Error ? signal.reason : new Error('The subgraph fetch was aborted'));
      signal.addEventListener('abort', this.onAbort, { once: true });
    }
  }

  private receive(incoming: IncomingMessage): void {
    this.answered = true;
    const contentType = incoming.headers['content-type'] ?? '';
    if (contentType.includes('text/event-stream') || contentType.includes('multipart/')) {
      // Streamed answers keep their abort listener until they end.
      incoming.once('close', () => this.done());
      this.respond(incoming, incoming, incoming.headers);
      return;
    }
    incoming.on('data', (chunk: Buffer) => this.chunks.push(chunk));
    incoming.once('error', (error: Error) => this.fail(error));
    incoming.once('end', () => this.end(incoming));
  }

  private end(incoming: IncomingMessage): void {
    this.done();
    const raw = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const encoding = incoming.headers['content-encoding'];
    if (!encoding || encoding === 'identity') {
      this.respond(incoming, raw, incoming.headers);
      return;
    }
    const decompress = DECOMPRESS[encoding];
    if (!decompress) {
      this.reject(new TypeError(`Subgraph at ${this.url} answered with unsupported content-encoding ${encoding}`));
      return;
    }
    decompress(raw).then((plain) => this.respond(incoming, plain, withoutEncoding(incoming.headers)), this.reject);
  }

  private respond(incoming: IncomingMessage, body: Buffer | IncomingMessage, headers: IncomingMessage['headers']): void {
    const Response = this.responseClass();
    this.resolve(new Response(body, { status: incoming.statusCode ?? 200, statusText: incoming.statusMessage ?? '', headers }));
  }

  private fail(error: unknown): void {
    this.done();
    if (this.retry && !this.answered && this.outgoing.reusedSocket && (error as NodeJS.ErrnoException).code === 'ECONNRESET') {
      this.resolve(this.retry());
      return;
    }
    this.reject(error);
  }

  private done(): void {
    if (this.onAbort) this.signal?.removeEventListener('abort', this.onAbort);
  }
}

function requestBody(body: unknown): string | Buffer | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return body;
  if (Buffer.isBuffer(body)) return body;
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  // The HTTP executor sends JSON text; file uploads are not accepted by the gateway (multipart is off).
  throw new TypeError('A subgraph request body must be text or bytes');
}

function requestHeaders(headers: SubgraphFetchInit['headers']): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  if (!headers) return out;
  const entries = Symbol.iterator in headers ? (headers as Iterable<[string, string]>) : Object.entries(headers as Record<string, string | undefined>);
  for (const [name, value] of entries) if (value !== undefined) out[name.toLowerCase()] = value;
  return out;
}

function withoutEncoding(headers: IncomingMessage['headers']): IncomingMessage['headers'] {
  const { 'content-encoding': _encoding, 'content-length': _length, ...rest } = headers;
  return rest;
}
