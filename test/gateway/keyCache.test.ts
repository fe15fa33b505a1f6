/**
 * The gateway's API key cache: an expired entry is served while one read
 * refreshes it, but only while key changes are followed, and a changed
 * (revoked) key is refused from the moment the process learns of it. The
 * follower itself runs against the run's MongoDB.
 */
import type { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { followApiKeyChanges, type ApiKeyChangeListener } from '../../gateway/apiKeyChanges.js';
import { createApiKeyAuthenticator } from '../../gateway/authenticate.js';
import { generateApiKey, hashApiKey } from '../../lib/auth/apiKeys.js';
import type { Principal } from '../../lib/auth/roles.js';
import { DomainError, ErrorCode } from '../../lib/errors.js';
import { TenancyRepository } from '../../lib/tenancy/tenancy.repository.js';
import { connectTestClient, dropDatabasesWithPrefix, uniqueName } from '../support/mongo.js';

const PRINCIPAL: Principal = { sandbox: 'cache', role: 'viewer', keyId: 'k1' } as Principal;

/** An authenticator on an injected clock, a controllable key store and hand-fed key changes. */
function setUp(options: { live?: boolean } = {}) {
  let clock = 0;
  const key = generateApiKey().key;
  const store = { revoked: false, lookups: 0, signed: 0, pending: [] as Array<() => void> };
  const changes = { live: options.live ?? true, listener: undefined as ApiKeyChangeListener | undefined };
  /** Held lookups answer when `releaseLookups` is called, so a test can act while one is in flight. */
  let holdLookups = false;
  const authenticator = createApiKeyAuthenticator({
    lookup: async () => {
      store.lookups++;
      if (holdLookups) await new Promise<void>((resolve) => store.pending.push(resolve));
      if (store.revoked) throw new DomainError(ErrorCode.Unauthenticated, 'revoked');
      return PRINCIPAL;
    },
    // Each signature numbered, so a test sees which lookup's entry answers.
    signer: { sign: async () => `token-${++store.signed}` },
    cacheTtlMs: 5_000,
    maxStaleMs: 30_000,
    keyChanges: { live: () => changes.live, listen: (listener) => void (changes.listener = listener) },
    now: () => clock,
  });
  return {
    store,
    changes,
    advance: (ms: number) => void (clock += ms),
    hold: (on: boolean) => void (holdLookups = on),
    releaseLookups: () => store.pending.splice(0).forEach((release) => release()),
    authenticate: () => authenticator.authenticate({ authorization: `Bearer ${key}` }),
  };
}

describe('API key cache', () => {
  it('serves an expired entry at once while one read refreshes it, and then serves the refreshed one', async () => {
    const cache = setUp();
    await cache.authenticate();
    expect(cache.store.lookups).toBe(1);

    cache.advance(6_000);
    cache.hold(true);
    // Expired: both answer from the cache without waiting for the (held) read, and only one read starts.
    await expect(cache.authenticate()).resolves.toMatchObject({ sandbox: 'cache' });
    await expect(cache.authenticate()).resolves.toMatchObject({ sandbox: 'cache' });
    expect(cache.store.lookups).toBe(2);
    cache.releaseLookups();
    cache.hold(false);

    // Then the refreshed entry answers, fresh for another lifetime.
    await expect.poll(async () => (await cache.authenticate()).gatewayToken).toBe('token-2');
    cache.advance(4_000);
    await expect(cache.authenticate()).resolves.toMatchObject({ gatewayToken: 'token-2' });
    expect(cache.store.lookups).toBe(2);
  });

  it('refuses a revoked key from the moment its change is learnt, however fresh its entry', async () => {
    const cache = setUp();
    await cache.authenticate();
    cache.store.revoked = true;
    // Not yet learnt: the fresh entry still answers.
    await expect(cache.authenticate()).resolves.toMatchObject({ sandbox: 'cache' });

    cache.changes.listener!.changed(PRINCIPAL.keyId!);
    await expect(cache.authenticate()).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('keeps nothing a refresh read before a change that came during it', async () => {
    const cache = setUp();
    await cache.authenticate();
    cache.advance(6_000);
    cache.hold(true);
    await cache.authenticate();
    // The key is revoked while the refresh that read it as valid is still answering.
    cache.store.revoked = true;
    cache.changes.listener!.changed(PRINCIPAL.keyId!);
    cache.releaseLookups();
    cache.hold(false);
    await expect(cache.authenticate()).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('drops every entry when the changes are reset (the stream reopened and may have missed some)', async () => {
    const cache = setUp();
    await cache.authenticate();
    cache.store.revoked = true;
    cache.changes.listener!.reset();
    await expect(cache.authenticate()).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('waits for the read of an expired entry while changes are not followed', async () => {
    const cache = setUp({ live: false });
    await cache.authenticate();
    cache.store.revoked = true;
    cache.advance(6_000);
    await expect(cache.authenticate()).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('waits for the read of an entry past its lifetime and the stale allowance', async () => {
    const cache = setUp();
    await cache.authenticate();
    cache.store.revoked = true;
    cache.advance(5_000 + 30_000);
    await expect(cache.authenticate()).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });
});

describe('API key changes, followed through a change stream', () => {
  let client: MongoClient;
  let prefix: string;

  beforeAll(async () => {
    client = await connectTestClient();
    prefix = `${uniqueName('keych')}_`;
  });

  afterAll(async () => {
    await dropDatabasesWithPrefix(client, prefix);
    await client.close();
  });

  it('tells of a revoked key, not of a key that was only used, and resets when it opens', async () => {
    const repository = new TenancyRepository(client.db(`${prefix}platform`));
    const { key } = generateApiKey();
    const record = {
      _id: uniqueName('key-'),
      hash: hashApiKey(key),
      hint: 'cdpk_test',
      name: 'test',
      sandbox: 'keys',
      role: 'viewer' as const,
      createdAt: new Date(),
      createdBy: null,
      revokedAt: null,
      lastUsedAt: null,
    };
    await repository.insertApiKey(record);
    const heard: string[] = [];
    const changes = followApiKeyChanges(repository, { retryDelayMs: 20 });
    changes.listen({ changed: (id) => heard.push(`changed ${id}`), reset: () => heard.push('reset') });
    try {
      await expect.poll(() => changes.live(), { timeout: 10_000 }).toBe(true);
      expect(heard).toEqual(['reset']);

      await repository.touchApiKey(record._id, new Date());
      await repository.revokeApiKey('keys', record._id, new Date());
      // A key added last is the fence: changes arrive in order, so once it is heard, a change told of the touch would be too.
      const fence = { ...record, _id: uniqueName('key-fence-'), hash: hashApiKey(generateApiKey().key) };
      await repository.insertApiKey(fence);
      await expect.poll(() => heard, { timeout: 10_000 }).toContain(`changed ${fence._id}`);
      expect(heard).toEqual(['reset', `changed ${record._id}`, `changed ${fence._id}`]);
    } finally {
      await changes.close();
    }
    expect(changes.live()).toBe(false);
  });
});
