/**
 * Trust between the gateway and the subgraphs. The gateway authenticates the
 * caller, then forwards the sandbox and role to the subgraphs in a short-lived
 * token (a JWT, HS256, signed with a secret from config). Subgraphs refuse any
 * request without a valid one, so they cannot be called around the gateway.
 */
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { DomainError, ErrorCode } from '../errors.js';
import { isRole, type Principal } from './roles.js';

export const GATEWAY_TOKEN_HEADER = 'x-cdp-gateway-token';
const ISSUER = 'cdp-gateway';
const AUDIENCE = 'cdp-subgraph';
const DEFAULT_LIFETIME_SECONDS = 60;

export interface GatewayTokenSigner {
  sign(principal: Principal): Promise<string>;
}

export interface GatewayTokenVerifier {
  verify(token: string | undefined | null): Promise<Principal>;
}

function secretKey(secret: string): Uint8Array {
  if (secret.length < 32) throw new Error('The gateway secret must be at least 32 characters');
  return new TextEncoder().encode(secret);
}

export function createGatewayTokenSigner(
  secret: string,
  options: { lifetimeSeconds?: number; now?: () => Date } = {},
): GatewayTokenSigner {
  const key = secretKey(secret);
  const lifetime = options.lifetimeSeconds ?? DEFAULT_LIFETIME_SECONDS;
  const now = options.now ?? (() => new Date());
  return {
    sign(principal) {
      const issuedAt = Math.floor(now().getTime() / 1000);
      const claims: Record<string, string> = { sandbox: principal.sandbox, role: principal.role };
      if (principal.keyId) claims.keyId = principal.keyId;
      return new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setIssuedAt(issuedAt)
        .setExpirationTime(issuedAt + lifetime)
        .sign(key);
    },
  };
}

export function createGatewayTokenVerifier(secret: string, options: { now?: () => Date } = {}): GatewayTokenVerifier {
  const key = secretKey(secret);
  const now = options.now ?? (() => new Date());
  const refuse = (why: string) =>
    new DomainError(ErrorCode.Unauthenticated, `Requests must come through the gateway: ${why}`);
  return {
    async verify(token) {
      if (!token) throw refuse('no gateway token');
      try {
        const { payload } = await jwtVerify(token, key, {
          issuer: ISSUER,
          audience: AUDIENCE,
          algorithms: ['HS256'],
          currentDate: now(),
        });
        if (typeof payload.sandbox !== 'string' || !isRole(payload.role)) throw refuse('malformed gateway token');
        return {
          sandbox: payload.sandbox,
          role: payload.role,
          ...(typeof payload.keyId === 'string' ? { keyId: payload.keyId } : {}),
        };
      } catch (error) {
        if (error instanceof DomainError) throw error;
        if (error instanceof joseErrors.JWTExpired) throw refuse('the gateway token has expired');
        throw refuse('invalid gateway token');
      }
    },
  };
}
