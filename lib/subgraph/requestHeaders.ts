/**
 * One view of "the request's headers" for both transports, so the context is
 * built the same way over HTTP and websockets. Over graphql-ws, a gateway
 * forwards its headers (the gateway token) in the connection params, either
 * nested under `headers` or at the top level; names are matched case-insensitively.
 */
import type { IncomingHttpHeaders } from 'node:http';

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

function lookup(source: unknown, name: string): string | undefined {
  if (!source || typeof source !== 'object') return undefined;
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(source)) {
    if (key.toLowerCase() !== wanted) continue;
    if (typeof value === 'string') return value;
    if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
  }
  return undefined;
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
        lookup(connectionParams?.headers, name) ?? lookup(connectionParams, name) ?? http?.get(name)
      );
    },
  };
}
