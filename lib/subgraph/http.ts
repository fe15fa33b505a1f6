/**
 * The tiny Node `http` integration for Apollo Server: read the body (bounded),
 * hand the request to `executeHTTPGraphQLRequest`, write its response.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeaderMap, type ApolloServer, type BaseContext, type HTTPGraphQLRequest } from '@apollo/server';
import type { GraphQLError } from 'graphql';
import { ErrorCode } from '../errors.js';

export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    ...headers,
  });
  res.end(payload);
}

export function sendGraphQLError(res: ServerResponse, error: HttpError): void {
  sendJson(res, error.status, { errors: [{ message: error.message, extensions: { code: error.code } }] });
}

async function readBody(req: IncomingMessage, limitBytes: number): Promise<string> {
  const tooLarge = () =>
    new HttpError(413, ErrorCode.LimitExceeded, `Request body is larger than the ${limitBytes}-byte limit`);
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limitBytes) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limitBytes) throw tooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseBody(raw: string, contentType: string | undefined): unknown {
  if (raw === '') return undefined;
  const mediaType = contentType?.split(';')[0]?.trim().toLowerCase();
  if (mediaType === 'application/json' || mediaType?.endsWith('+json')) {
    try {
      return JSON.parse(raw);
    } catch {
      throw new HttpError(400, 'BAD_REQUEST', 'Request body is not valid JSON');
    }
  }
  return raw;
}

function toHeaderMap(req: IncomingMessage): HeaderMap {
  const headers = new HeaderMap();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  return headers;
}

export async function handleGraphQLRequest<TContext extends BaseContext>(
  apollo: ApolloServer<TContext>,
  req: IncomingMessage,
  res: ServerResponse,
  options: {
    bodyLimitBytes: number;
    context: () => Promise<TContext>;
    /** Cheap checks of the document and variables before Apollo parses them; an error is answered with 400. */
    checkRequest?: (request: { query: string; variables?: unknown }) => GraphQLError | undefined;
  },
): Promise<void> {
  let body: unknown;
  try {
    body = req.method === 'POST' ? parseBody(await readBody(req, options.bodyLimitBytes), req.headers['content-type']) : undefined;
  } catch (error) {
    if (error instanceof HttpError) {
      // Stop reading an oversize body; the connection is not reused.
      sendGraphQLError(res, error);
      if (error.status === 413) req.destroy();
      return;
    }
    throw error;
  }

  const url = new URL(req.url ?? '/', 'http://localhost');
  const fields = body && typeof body === 'object' && !Array.isArray(body) ? (body as { query?: unknown; variables?: unknown }) : undefined;
  const query = fields ? fields.query : url.searchParams.get('query');
  const requestError = typeof query === 'string' ? options.checkRequest?.({ query, variables: fields?.variables }) : undefined;
  if (requestError) {
    sendJson(res, 400, { errors: [{ message: requestError.message, extensions: { code: requestError.extensions.code } }] });
    return;
  }
  const httpGraphQLRequest: HTTPGraphQLRequest = {
    method: (req.method ?? 'GET').toUpperCase(),
    headers: toHeaderMap(req),
    search: url.search,
    body,
  };
  const response = await apollo.executeHTTPGraphQLRequest({ httpGraphQLRequest, context: options.context });

  for (const [name, value] of response.headers) res.setHeader(name, value);
  res.statusCode = response.status ?? 200;
  if (response.body.kind === 'complete') {
    res.end(response.body.string);
    return;
  }
  for await (const chunk of response.body.asyncIterator) res.write(chunk);
  res.end();
}
