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

/** Verified tokens kept per verifier; past this many the cache starts afresh. */
const MAX_CACHED_TOKENS = 10_000;

/**
 * A gateway reuses one signed token per key for a few seconds, so a subgraph sees
 * the same token many times. A token that verified once is remembered until it
 * expires: its signature covers every claim, so an identical string verifies
 * identically, and expiry is still checked against the clock on every use.
 */
export function createGatewayTokenVerifier(secret: string, options: { now?: () => Date } = {}): GatewayTokenVerifier {
  const key = secretKey(secret);
  const now = options.now ?? (() => new Date());
  const verified = new Map<string, { principal: Principal; expiresAtMs: number }>();
  const refuse = (why: string) =>
    new DomainError(ErrorCode.Unauthenticated, `Requests must come through the gateway: ${why}`);
  return {
    async verify(token) {
      if (!token) throw refuse('no gateway token');
      const cached = verified.get(token);
      if (cached) {
        if (now().getTime() < cached.expiresAtMs) return { ...cached.principal };
        verified.delete(token);
        throw refuse('the gateway token has expired');
      }
      try {
        const { payload } = await jwtVerify(token, key, {
          issuer: ISSUER,
          audience: AUDIENCE,
          algorithms: ['HS256'],
          currentDate: now(),
        });
        if (typeof payload.sandbox !== 'string' || !isRole(payload.role)) throw refuse('malformed gateway token');
        const principal: Principal = {
          sandbox: payload.sandbox,
          role: payload.role,
          ...(typeof payload.keyId === 'string' ? { keyId: payload.keyId } : {}),
        };
        if (typeof payload.exp === 'number') {
          if (verified.size >= MAX_CACHED_TOKENS) verified.clear();
          verified.set(token, { principal, expiresAtMs: payload.exp * 1000 });
        }
        return { ...principal };
      } catch (error) {
        if (error instanceof DomainError) throw error;
        if (error instanceof joseErrors.JWTExpired) throw refuse('the gateway token has expired');
        throw refuse('invalid gateway token');
      }
    },
  };
}
