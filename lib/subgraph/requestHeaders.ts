/**
 * One view of "the request's headers" for both transports, so the context is
 * built the same way over HTTP and websockets. Over graphql-ws, a gateway
 * forwards its headers (the gateway token) in the connection params, either
 * nested under `headers` or at the top level; names are matched case-insensitively.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { headerValue } from '../headers.js';

export interface RequestHeaders {
  /** The header's value, or undefined; `name` is matched case-insensitively. */
  get(name: string): string | undefined;
}

export function headersFromHttp(headers: IncomingHttpHeaders): RequestHeaders {
  return {
    get(name) {
      const value = headers[name.toLowerCase()];
      return Array.isArray(value) ? value[0] : value;
    },
  };
}

/**
 * Websocket requests: `connectionParams.headers[name]`, then `connectionParams[name]`,
 * then the HTTP upgrade request's own headers.
 */
export function headersFromConnection(
  connectionParams: Readonly<Record<string, unknown>> | undefined,
  upgradeHeaders: IncomingHttpHeaders | undefined,
): RequestHeaders {
  const http = upgradeHeaders ? headersFromHttp(upgradeHeaders) : undefined;
  return {
    get(name) {
      return (
        headerValue(connectionParams?.headers, name) ?? headerValue(connectionParams, name) ?? http?.get(name)
      );
    },
  };
}
