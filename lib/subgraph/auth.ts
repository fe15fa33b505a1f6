/**
 * Who is calling. Subgraphs trust only the gateway: it authenticates the caller
 * (API keys) and forwards the sandbox and role in a short-lived token it signs
 * (lib/auth/gatewayToken.ts), sent as `x-cdp-gateway-token`. A request without a
 * valid token is refused with UNAUTHENTICATED, and the token is the only source
 * of the request's sandbox, so no request can name another sandbox.
 */
import { createGatewayTokenVerifier, GATEWAY_TOKEN_HEADER } from '../auth/gatewayToken.js';
import type { Principal } from '../auth/roles.js';
import { DomainError, ErrorCode } from '../errors.js';
import { SANDBOX_NAME_PATTERN } from '../sandbox.js';
import type { RequestHeaders } from './requestHeaders.js';

export type { Principal };
export { GATEWAY_TOKEN_HEADER };

/** What the subgraphs need from `config.security`. */
export interface SubgraphSecurity {
  /** Verifies the gateway's tokens (HS256); the gateway signs with the same secret. */
  gatewaySecret: string;
  /** AES-256-GCM key for secrets at rest (32 bytes, hex or base64). */
  encryptionKey: string;
  /** The clock token expiry is checked against; the wall clock unless a test moves it. */
  tokenClock?: () => Date;
}

/** Establishes the caller from a request's headers; throws UNAUTHENTICATED. */
export type Authenticate = (headers: RequestHeaders) => Promise<Principal>;

/** Real tokens are a few hundred characters; anything far longer is refused before any parsing. */
const MAX_TOKEN_LENGTH = 4096;

const refuse = (why: string) => new DomainError(ErrorCode.Unauthenticated, `Requests must come through the gateway: ${why}`);

/**
 * Expiry is checked against the wall clock (or `tokenClock`), not the subgraph's
 * injected `now`: the token's lifetime is a transport matter, while `now` is
 * business time that tests may pin to a fixed date.
 */
export function createGatewayAuthenticator(gatewaySecret: string, tokenClock?: () => Date): Authenticate {
  const verifier = createGatewayTokenVerifier(gatewaySecret, { now: tokenClock });
  return async (headers) => {
    const token = headers.get(GATEWAY_TOKEN_HEADER);
    if (token && token.length > MAX_TOKEN_LENGTH) throw refuse('invalid gateway token');
    const principal = await verifier.verify(token);
    if (!SANDBOX_NAME_PATTERN.test(principal.sandbox)) throw refuse('the gateway token names no valid sandbox');
    return Object.freeze(principal);
  };
}
