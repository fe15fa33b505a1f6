import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MongoClient } from 'mongodb';
import { createDatabases } from '../../lib/mongo/databases.js';
import { TenancyRepository } from '../../lib/tenancy/tenancy.repository.js';
import { TenancyService } from '../../lib/tenancy/tenancy.service.js';
import { generateApiKey } from '../../lib/auth/apiKeys.js';
import { connectTestClient, dropDatabasesWithPrefix, uniqueName } from '../support/mongo.js';

describe('tenancy: sandboxes, API keys, audit log', () => {
  let client: MongoClient;
  let prefix: string;
  let service: TenancyService;
  let clock = new Date('2026-03-01T10:00:00Z');

  /** A service on its own platform database under this file's prefix, for a test that needs a platform nobody else touched. */
  const newService = (name: string) => {
    const databases = createDatabases(client, `${prefix}_${name}_`);
    return new TenancyService({
      repository: new TenancyRepository(databases.platform()),
      dropSandboxData: (sandbox) => databases.dropSandbox(sandbox),
      now: () => clock,
    });
  };

  beforeAll(async () => {
    client = await connectTestClient();
    prefix = uniqueName('ten');
    service = newService('shared');
  });

  afterAll(async () => {
    await dropDatabasesWithPrefix(client, `${prefix}_`);
    await client.close();
  });

  it('bootstraps the default sandbox with one admin key, generated once', async () => {
    const fresh = newService('bootstrap');
    const first = await fresh.bootstrap();
    expect(first.generatedKey).toMatch(/^cdpk_/);
    expect(await fresh.bootstrap()).toEqual({});
    await expect(fresh.authenticate(first.generatedKey!)).resolves.toMatchObject({ sandbox: 'default', role: 'admin' });
  });

  it('takes the bootstrap key from config, idempotently', async () => {
    const { key } = generateApiKey();
    await service.bootstrap('configured', key);
    await service.bootstrap('configured', key);
    const admin = await service.authenticate(key);
    expect(admin).toMatchObject({ sandbox: 'configured', role: 'admin' });
    expect((await service.listApiKeys(admin)).filter((k) => k.role === 'admin')).toHaveLength(1);
    await expect(service.bootstrap('configured', 'not-a-key')).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
  });

  it('creates keys with roles, shows each once, records lastUsedAt, and revokes them', async () => {
    const { generatedKey } = await service.bootstrap('keys');
    const admin = await service.authenticate(generatedKey!);
    const viewer = await service.createApiKey(admin, { name: 'dashboard', role: 'viewer' });
    expect(viewer.key).toMatch(/^cdpk_/);
    const listed = await service.listApiKeys(admin);
    expect(JSON.stringify(listed)).not.toContain(viewer.key);

    clock = new Date(clock.getTime() + 120_000);
    const principal = await service.authenticate(viewer.key);
    expect(principal).toEqual({ sandbox: 'keys', role: 'viewer', keyId: viewer.apiKey.id });
    const touched = (await service.listApiKeys(admin)).find((k) => k.id === viewer.apiKey.id);
    expect(touched?.lastUsedAt).toEqual(clock);

    await expect(service.createApiKey(principal, { name: 'x', role: 'admin' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(service.createApiKey(admin, { name: 'x', role: 'owner' })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });

    await service.revokeApiKey(admin, viewer.apiKey.id);
    await expect(service.authenticate(viewer.key)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(service.authenticate('cdpk_garbage')).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('refuses to revoke the last admin key of a sandbox', async () => {
    const { generatedKey } = await service.bootstrap('lastadmin');
    const admin = await service.authenticate(generatedKey!);
    await expect(service.revokeApiKey(admin, admin.keyId!)).rejects.toMatchObject({ code: 'CONFLICT' });
  });

  it('empties a sandbox on reset and never deletes the default sandbox', async () => {
    const { generatedKey } = await service.bootstrap('resettable');
    const admin = await service.authenticate(generatedKey!);
    const db = createDatabases(client, `${prefix}_shared_`).sandbox('resettable');
    await db.collection('people').insertOne({ firstName: 'Ada' });
    await service.resetSandbox(admin, 'resettable');
    expect(await db.collection('people').countDocuments()).toBe(0);

    await service.bootstrap();
    const defaultAdmin = { sandbox: 'default', role: 'admin' as const, platformAdmin: true };
    await expect(service.deleteSandbox(defaultAdmin, 'default')).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
  });

  it("refuses a deleted sandbox's keys saying the sandbox was deleted, and a key revoked before as any revoked key", async () => {
    const { generatedKey } = await service.bootstrap('doomed');
    const admin = await service.authenticate(generatedKey!);
    const earlier = await service.createApiKey(admin, { name: 'old', role: 'viewer' });
    await service.revokeApiKey(admin, earlier.apiKey.id);
    const platformAdmin = { sandbox: 'default', role: 'admin' as const, platformAdmin: true };
    await service.bootstrap();
    await service.deleteSandbox(platformAdmin, 'doomed');

    // Read from the key alone, as a process that has not heard of the deletion reads it.
    await expect(service.authenticate(generatedKey!)).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
      message: 'The sandbox "doomed" was deleted; its API keys no longer work',
    });
    await expect(service.authenticate(earlier.key)).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
      message: 'A valid API key is required: send it as "Authorization: Bearer <key>"',
    });
  });

  it('keeps an audit log of admin actions, newest first, per sandbox', async () => {
    const { generatedKey } = await service.bootstrap('audited');
    const admin = await service.authenticate(generatedKey!);
    clock = new Date(clock.getTime() + 1000);
    const key = await service.createApiKey(admin, { name: 'ci', role: 'editor' });
    clock = new Date(clock.getTime() + 1000);
    await service.revokeApiKey(admin, key.apiKey.id);
    const log = await service.auditLog(admin);
    expect(log.map((entry) => entry.action)).toEqual(['apiKey.revoke', 'apiKey.create']);
    expect(log[0]).toMatchObject({ actor: { keyId: admin.keyId, role: 'admin' }, target: `apiKey:${key.apiKey.id}` });
    const viewer = await service.authenticate((await service.createApiKey(admin, { name: 'v', role: 'viewer' })).key);
    await expect(service.auditLog(viewer)).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });
});
