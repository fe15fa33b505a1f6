import { describe, expect, it } from 'vitest';
import { bearerToken, generateApiKey, hashApiKey, looksLikeApiKey } from '../../lib/auth/apiKeys.js';
import { createGatewayTokenSigner, createGatewayTokenVerifier } from '../../lib/auth/gatewayToken.js';
import { hasRole, requireRole } from '../../lib/auth/roles.js';
import { DomainError } from '../../lib/errors.js';

const SECRET = 'a-test-secret-that-is-long-enough-for-hs256';

describe('API keys', () => {
  it('are random, recognisable, and stored only as a hash', () => {
    const a = generateApiKey();
    const b = generateApiKey();
    expect(a.key).not.toBe(b.key);
    expect(looksLikeApiKey(a.key)).toBe(true);
    expect(a.hash).toBe(hashApiKey(a.key));
    expect(a.hash).not.toContain(a.key.slice(5));
    expect(a.key.startsWith(a.hint)).toBe(true);
  });

  it('reads only the Bearer scheme', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer   abc ')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});

describe('gateway token', () => {
  it('carries sandbox and role from the gateway to a subgraph', async () => {
    const token = await createGatewayTokenSigner(SECRET).sign({ sandbox: 'acme', role: 'editor', keyId: 'k1' });
    await expect(createGatewayTokenVerifier(SECRET).verify(token)).resolves.toEqual({
      sandbox: 'acme',
      role: 'editor',
      keyId: 'k1',
    });
  });

  it('is refused when missing, forged, tampered with or expired', async () => {
    const verifier = createGatewayTokenVerifier(SECRET);
    const token = await createGatewayTokenSigner(SECRET).sign({ sandbox: 'acme', role: 'viewer' });
    const forged = await createGatewayTokenSigner(`${SECRET}-other`).sign({ sandbox: 'acme', role: 'admin' });
    const [header, payload, signature] = token.split('.');
    const elevated = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), role: 'admin' }),
    ).toString('base64url');
    const expired = await createGatewayTokenSigner(SECRET, {
      now: () => new Date(Date.now() - 10 * 60_000),
    }).sign({ sandbox: 'acme', role: 'viewer' });

    for (const bad of [undefined, '', 'garbage', forged, `${header}.${elevated}.${signature}`, expired]) {
      await expect(verifier.verify(bad)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    }
  });
});

describe('roles', () => {
  it('admin includes editor includes viewer', () => {
    expect(hasRole({ sandbox: 's', role: 'admin' }, 'editor')).toBe(true);
    expect(hasRole({ sandbox: 's', role: 'viewer' }, 'editor')).toBe(false);
    expect(() => requireRole({ sandbox: 's', role: 'editor' }, 'admin')).toThrow(DomainError);
  });
});
