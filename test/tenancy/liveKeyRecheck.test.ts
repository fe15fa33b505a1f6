/**
 * The gateway's check of open websockets' keys (gateway/live/subscriptionGuard.ts):
 * a connection whose sandbox was deleted is closed saying so, one whose key was
 * revoked saying that, and a key check that fails for another reason (the
 * database away) closes nothing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Authenticator, GatewayIdentity } from '../../gateway/authenticate.js';
import { SubscriptionGuard, type GuardedSocket } from '../../gateway/live/subscriptionGuard.js';
import type { Principal } from '../../lib/auth/roles.js';
import { DomainError, ErrorCode } from '../../lib/errors.js';
import { silentLogger } from '../../lib/logger.js';
import { sandboxDeleted } from '../../lib/tenancy/deletedSandboxes.js';

const LIMITS = { maxPerConnection: 5, maxPerKey: 10, maxConnectionsPerKey: 5, queueLimit: 100, recheckIntervalMs: 60_000 };

/** A socket that records how it was closed. */
function socket(): GuardedSocket & { closed?: { code: number; reason: string } } {
  const recorded: GuardedSocket & { closed?: { code: number; reason: string } } = {
    close(code, reason) {
      recorded.closed = { code, reason };
    },
  };
  return recorded;
}

const identity = (keyId: string, sandbox: string): GatewayIdentity => ({
  principal: { sandbox, role: 'viewer', keyId } as Principal,
  sandbox,
  gatewayToken: `token-${keyId}`,
});

describe('rechecking the keys of open websockets', () => {
  const guards: SubscriptionGuard[] = [];
  afterEach(() => guards.splice(0).forEach((guard) => guard.stop()));

  it('closes a deleted sandbox\'s connection saying so, a revoked key\'s saying that, and keeps one the check could not answer', async () => {
    /** What each key's check answers now, by the `authorization` header the connection opened with. */
    const refusals = new Map<string, Error>([
      ['Bearer gone', sandboxDeleted('gone')],
      ['Bearer revoked', new DomainError(ErrorCode.Unauthenticated, 'A valid API key is required: send it as "Authorization: Bearer <key>"')],
      ['Bearer unreachable', new Error('connection refused')],
    ]);
    const authenticator: Authenticator = {
      async authenticate(headers) {
        const refusal = refusals.get(String(headers.authorization));
        if (refusal) throw refusal;
        return identity('fine', 'kept');
      },
    };
    const guard = new SubscriptionGuard({ limits: LIMITS, authenticator, logger: silentLogger });
    guards.push(guard);
    const sockets = { gone: socket(), revoked: socket(), unreachable: socket(), fine: socket() };
    for (const [name, open] of Object.entries(sockets)) {
      expect(guard.admitConnection(open, identity(name, name), { authorization: `Bearer ${name}` })).toBe(true);
    }

    await guard.recheckKeys();

    expect(sockets.gone.closed).toEqual({ code: 4401, reason: 'UNAUTHENTICATED: The sandbox "gone" was deleted; its API keys no longer work' });
    expect(sockets.revoked.closed).toEqual({ code: 4401, reason: 'UNAUTHENTICATED: The API key was revoked' });
    expect(sockets.unreachable.closed).toBeUndefined();
    expect(sockets.fine.closed).toBeUndefined();
  });
});
