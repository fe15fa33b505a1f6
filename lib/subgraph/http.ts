/**
 * The tiny Node `http` integration for Apollo Server: read the body (bounded,
 * lists scanned before parsing: lib/limits/requestBody.ts), hand the request to
 * `executeHTTPGraphQLRequest`, write its response.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeaderMap, type ApolloServer, type BaseContext, type HTTPGraphQLRequest } from '@apollo/server';
import type { GraphQLError } from 'graphql';
import { DomainError, ErrorCode, httpStatusFor } from '../errors.js';
import { discardRest, readGraphQLBody } from '../limits/requestBody.js';

/** For servers started without the platform's config; the platform passes CDP_MAX_BODY_BYTES to every part. */
export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;
/** The platform's default (CDP_MAX_LIST_LENGTH). */
export const DEFAULT_MAX_LIST_LENGTH = 10_000;

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
    /** Most elements of one list in the body. @default DEFAULT_MAX_LIST_LENGTH */
    maxListLength?: number;
    context: () => Promise<TContext>;
    /** Cheap checks of the document and variables before Apollo parses them; an error is answered with 400. */
    checkRequest?: (request: { query: string; variables?: unknown; operationName?: string }) => GraphQLError | undefined;
  },
): Promise<void> {
  let body: unknown;
  try {
    const limits = { maxBodyBytes: options.bodyLimitBytes, maxListLength: options.maxListLength ?? DEFAULT_MAX_LIST_LENGTH };
    body = req.method === 'POST' ? (await readGraphQLBody(req, limits)).parsed : undefined;
  } catch (error) {
    if (error instanceof DomainError) {
      // Refused before its end, the body may be cut off: the client must not reuse this connection.
      if (!req.complete) res.setHeader('connection', 'close');
      sendGraphQLError(res, new HttpError(httpStatusFor(error.code), error.code, error.message));
      discardRest(req, options.bodyLimitBytes);
      return;
    }
    throw error;
  }

  const url = new URL(req.url ?? '/', 'http://localhost');
  const fields =
    body && typeof body === 'object' && !Array.isArray(body) ? (body as { query?: unknown; variables?: unknown; operationName?: unknown }) : undefined;
  const query = fields ? fields.query : url.searchParams.get('query');
  const operationName = fields ? fields.operationName : url.searchParams.get('operationName');
  const requestError =
    typeof query === 'string'
      ? options.checkRequest?.({ query, variables: fields?.variables, operationName: typeof operationName === 'string' ? operationName : undefined })
      : undefined;
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
