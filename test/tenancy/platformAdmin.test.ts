/**
 * Who may create, see and delete sandboxes: platform admins (the bootstrap key
 * of `default`, and keys another platform admin made) and nobody else; a
 * sandbox admin sees only its own sandbox, and no answer tells it another's name.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MongoClient } from 'mongodb';
import { createDatabases } from '../../lib/mongo/databases.js';
import { TenancyRepository } from '../../lib/tenancy/tenancy.repository.js';
import { TenancyService } from '../../lib/tenancy/tenancy.service.js';
import type { Principal } from '../../lib/auth/roles.js';
import { connectTestClient, dropDatabasesWithPrefix, uniqueName } from '../support/mongo.js';

/** The error a call ends with, as a user sees it: code and message. */
const outcome = (call: Promise<unknown>) =>
  call.then(
    () => 'succeeded',
    (error: { code?: string; message: string }) => `${error.code}: ${error.message}`,
  );

describe('tenancy: the platform admin permission', () => {
  let client: MongoClient;
  let prefix: string;
  let service: TenancyService;
  let platformAdmin: Principal;
  let tenantAdmin: Principal;

  beforeAll(async () => {
    client = await connectTestClient();
    prefix = `${uniqueName('padm')}_`;
    const databases = createDatabases(client, prefix);
    service = new TenancyService({
      repository: new TenancyRepository(databases.platform()),
      dropSandboxData: (name) => databases.dropSandbox(name),
    });
    platformAdmin = await service.authenticate((await service.bootstrap()).generatedKey!);
    tenantAdmin = await service.authenticate((await service.bootstrap('tenant')).generatedKey!);
  });

  afterAll(async () => {
    await dropDatabasesWithPrefix(client, prefix);
    await client.close();
  });

  it('is held by the bootstrap key of the default sandbox only', () => {
    expect(platformAdmin).toMatchObject({ sandbox: 'default', role: 'admin', platformAdmin: true });
    expect(tenantAdmin.platformAdmin).toBeUndefined();
  });

  it("refuses a sandbox admin's create and delete alike, whatever the name, so no name is revealed", async () => {
    const forbidden = /^FORBIDDEN: This operation needs a platform admin key/;
    // "default" exists, "fresh-name" does not, "tenant" is the caller's own: one answer for all.
    for (const name of ['default', 'fresh-name', 'tenant']) {
      expect(await outcome(service.createSandbox(tenantAdmin, name))).toMatch(forbidden);
      expect(await outcome(service.deleteSandbox(tenantAdmin, name))).toMatch(forbidden);
    }
    expect((await service.listSandboxes(platformAdmin)).map((s) => s.name)).not.toContain('fresh-name');
  });

  it("answers another sandbox's name as missing in every call a sandbox admin may make", async () => {
    const asMissing = async (name: string) => (await outcome(service.resetSandbox(tenantAdmin, name))).replaceAll(name, '<name>');
    expect(await asMissing('default')).toBe(await asMissing('nosuch'));
    expect(await asMissing('default')).toMatch(/^NOT_FOUND: /);
    expect((await service.listSandboxes(tenantAdmin)).map((s) => s.name)).toEqual(['tenant']);
    await expect(service.resetSandbox(tenantAdmin, 'tenant')).resolves.toMatchObject({ name: 'tenant' });
  });

  it('lets a platform admin create, see, reset and delete any sandbox', async () => {
    const { sandbox, adminKey } = await service.createSandbox(platformAdmin, 'managed');
    expect(sandbox.name).toBe('managed');
    const managedAdmin = await service.authenticate(adminKey.key);
    expect(managedAdmin).toMatchObject({ sandbox: 'managed', role: 'admin' });
    expect(managedAdmin.platformAdmin).toBeUndefined();
    await expect(service.createSandbox(platformAdmin, 'managed')).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(service.createSandbox(platformAdmin, 'Bad Name')).rejects.toMatchObject({ code: 'INVALID_SANDBOX' });
    expect((await service.listSandboxes(platformAdmin)).map((s) => s.name)).toEqual(expect.arrayContaining(['default', 'managed', 'tenant']));

    await service.resetSandbox(platformAdmin, 'tenant');
    await service.deleteSandbox(platformAdmin, 'managed');
    await expect(service.authenticate(adminKey.key)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(service.resetSandbox(platformAdmin, 'managed')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    // A deleted name is never given out again.
    await expect(service.createSandbox(platformAdmin, 'managed')).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(service.deleteSandbox(platformAdmin, 'default')).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
  });

  it('is granted by a platform admin only, to admin keys, and its last key cannot be revoked', async () => {
    await expect(service.createApiKey(tenantAdmin, { name: 'escalate', role: 'admin', platformAdmin: true })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    await expect(service.createApiKey(platformAdmin, { name: 'ops', role: 'editor', platformAdmin: true })).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
    });

    const granted = await service.createApiKey(platformAdmin, { name: 'ops', role: 'admin', platformAdmin: true });
    expect(granted.apiKey.platformAdmin).toBe(true);
    const ops = await service.authenticate(granted.key);
    await expect(service.createSandbox(ops, 'made-by-ops')).resolves.toMatchObject({ sandbox: { name: 'made-by-ops' } });
    await service.revokeApiKey(ops, platformAdmin.keyId!);
    // Another admin key of the sandbox exists, so only the platform rule keeps the last platform admin.
    await service.createApiKey(ops, { name: 'plain admin', role: 'admin' });
    expect(await outcome(service.revokeApiKey(ops, ops.keyId!))).toMatch(/^CONFLICT: This is the last platform admin key/);
  });

  it('gives the permission to a default bootstrap key made before it existed', async () => {
    const oldPrefix = `${uniqueName('padm-old')}_`;
    const databases = createDatabases(client, oldPrefix);
    const repository = new TenancyRepository(databases.platform());
    const older = new TenancyService({ repository, dropSandboxData: (name) => databases.dropSandbox(name) });
    try {
      const { generatedKey } = await older.bootstrap();
      await databases.platform().collection('apiKeys').updateMany({}, { $unset: { platformAdmin: '' } });
      expect((await older.authenticate(generatedKey!)).platformAdmin).toBeUndefined();

      expect(await older.bootstrap()).toEqual({});
      expect((await older.authenticate(generatedKey!)).platformAdmin).toBe(true);
    } finally {
      await dropDatabasesWithPrefix(client, oldPrefix);
    }
  });
});
