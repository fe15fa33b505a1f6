/** A subgraph remembers tokens it verified, without ever accepting one past its expiry. */
import { describe, expect, it } from 'vitest';
import { createGatewayTokenSigner, createGatewayTokenVerifier } from '../../lib/auth/gatewayToken.js';

const SECRET = 'cache-test-secret-0123456789abcdefghijkl';

describe('gateway token verification cache', () => {
  it('answers a repeated token the same way until it expires, then refuses it', async () => {
    let clock = new Date('2026-03-01T10:00:00Z');
    const now = () => clock;
    const token = await createGatewayTokenSigner(SECRET, { lifetimeSeconds: 60, now }).sign({ sandbox: 'acme', role: 'editor', keyId: 'k1' });
    const verifier = createGatewayTokenVerifier(SECRET, { now });

    const first = await verifier.verify(token);
    first.sandbox = 'tampered';
    await expect(verifier.verify(token)).resolves.toEqual({ sandbox: 'acme', role: 'editor', keyId: 'k1' });

    clock = new Date('2026-03-01T10:00:59Z');
    await expect(verifier.verify(token)).resolves.toMatchObject({ sandbox: 'acme' });
    clock = new Date('2026-03-01T10:01:00Z');
    await expect(verifier.verify(token)).rejects.toMatchObject({ code: 'UNAUTHENTICATED', message: expect.stringContaining('expired') });
    await expect(verifier.verify(token)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('still refuses a token signed with another secret after a good one was cached', async () => {
    const verifier = createGatewayTokenVerifier(SECRET);
    await verifier.verify(await createGatewayTokenSigner(SECRET).sign({ sandbox: 'acme', role: 'viewer' }));
    const forged = await createGatewayTokenSigner(`${SECRET}-other`).sign({ sandbox: 'acme', role: 'admin' });
    await expect(verifier.verify(forged)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });
});
