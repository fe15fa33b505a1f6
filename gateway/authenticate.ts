/**
 * The one place the gateway decides who a request is. Today every caller with a
 * well-formed sandbox name is let through (limit-free); a later issue verifies
 * `authorization` here (API keys, JWTs) and may refuse. It is called at the
 * edge, before any GraphQL work: per HTTP request (plugins/useRequestIdentity.ts)
 * and per websocket connection (server.ts). Subgraphs check the sandbox again.
 */
import { DomainError, ErrorCode } from '../lib/errors.js';
import { parseSandboxName } from '../lib/sandbox.js';

export const SANDBOX_HEADER = 'x-sandbox';
export const AUTHORIZATION_HEADER = 'authorization';

export interface GatewayIdentity {
  /** The sandbox every subgraph call of this request is bound to. */
  readonly sandbox: string;
  /** The client's credentials, passed through untouched. */
  readonly authorization: string | undefined;
}

/**
 * `headers` are the request's headers, or for a websocket client the upgrade
 * request's headers merged with its graphql-ws `connectionParams` (the runtime
 * merges them), so HTTP and websocket clients are treated alike.
 */
export function authenticate(headers: Readonly<Record<string, unknown>>): GatewayIdentity {
  return {
    sandbox: parseSandboxName(headerValue(headers, SANDBOX_HEADER)),
    authorization: headerValue(headers, AUTHORIZATION_HEADER),
  };
}

/** HTTP status for a refused request: 401 for missing or bad credentials, 403 when not allowed, else 400. */
export function refusalStatus(error: DomainError): number {
  if (error.code === ErrorCode.Unauthenticated) return 401;
  if (error.code === ErrorCode.Forbidden) return 403;
  return 400;
}

/** The GraphQL-over-HTTP body of a refused request: the error's code and safe details only. */
export function refusalBody(error: DomainError): string {
  const extensions = { code: error.code, ...(error.details ? { details: error.details } : {}) };
  return JSON.stringify({ errors: [{ message: error.message, extensions }] });
}

/** Case-insensitive lookup: connectionParams keep whatever case the client chose. */
function headerValue(headers: Readonly<Record<string, unknown>>, name: string): string | undefined {
  for (const key of Object.keys(headers)) {
    if (key.toLowerCase() === name) {
      const value = headers[key];
      return typeof value === 'string' && value !== '' ? value : undefined;
    }
  }
  return undefined;
}
