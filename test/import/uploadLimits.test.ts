/**
 * Bounds on uploaded export files: a per-import size cap, a per-sandbox quota of stored
 * upload bytes, expiry of abandoned uploads, and deleteImport, through the profile
 * subgraph's API with small limits.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProfileSubgraph } from '../../subgraphs/profile/server.js';
import { expireAbandonedUploads } from '../../subgraphs/profile/imports/importSweep.job.js';
import { ImportsRepository } from '../../subgraphs/profile/imports/imports.repository.js';
import { postGraphQL } from '../subgraphs/support/graphql.js';
import { startSubgraphSuite, type SubgraphSuite } from '../subgraphs/support/subgraphSuite.js';
import { uniqueName } from '../support/mongo.js';

const LIMITS = { maxImportBytes: 100, sandboxQuotaBytes: 150, expiryHours: 2 };
const clock = { now: new Date('2026-03-01T09:00:00.000Z') };
let suite: SubgraphSuite;

beforeAll(async () => {
  suite = await startSubgraphSuite((options) => startProfileSubgraph({ ...options, security: { ...options.security, uploads: LIMITS } }), { now: () => clock.now });
});
afterAll(async () => {
  await suite?.stop();
});

const call = (sandbox: string, query: string, variables: Record<string, unknown> = {}) => postGraphQL(suite.url, query, variables, { sandbox, role: 'editor' });

async function start(sandbox: string): Promise<string> {
  const response = await call(sandbox, `mutation { startImport(input: { source: "marketo", instance: "123-ABC-456", entity: "leads" }) { id } }`);
  expect(response.errors).toBeUndefined();
  return response.data!.startImport.id;
}

const upload = (sandbox: string, id: string, index: number, bytes: number) =>
  call(sandbox, `mutation($id: ID!, $index: Int!, $content: String!) { uploadImportChunk(importId: $id, index: $index, content: $content) { id } }`, {
    id,
    index,
    content: 'x'.repeat(bytes),
  });

const chunkCount = (sandbox: string, importId: string) => suite.databases.sandbox(sandbox).collection('importChunks').countDocuments({ importId });

describe('upload bounds', () => {
  it('refuses a chunk that would take an import past its size cap, counting a chunk sent again once', async () => {
    const sb = uniqueName('up');
    const id = await start(sb);
    expect((await upload(sb, id, 0, 60)).errors).toBeUndefined();
    expect((await upload(sb, id, 0, 60)).errors).toBeUndefined();
    const refused = await upload(sb, id, 1, 60);
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'LIMIT_EXCEEDED', details: { limit: 'CDP_IMPORT_MAX_BYTES', maxBytes: 100, usedBytes: 60, chunkBytes: 60 } });
    expect(refused.errors?.[0]?.message).toMatch(/would pass 100 bytes/);
    expect(await chunkCount(sb, id)).toBe(1);
    expect((await upload(sb, id, 1, 40)).errors).toBeUndefined();
  });

  it("refuses chunks past the sandbox's quota until unfinished imports are deleted", async () => {
    const sb = uniqueName('up');
    const first = await start(sb);
    const second = await start(sb);
    expect((await upload(sb, first, 0, 90)).errors).toBeUndefined();
    const refused = await upload(sb, second, 0, 90);
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'LIMIT_EXCEEDED', details: { limit: 'CDP_IMPORT_SANDBOX_QUOTA_BYTES', maxBytes: 150, usedBytes: 90 } });
    // Another sandbox has a quota of its own.
    const elsewhere = uniqueName('up');
    expect((await upload(elsewhere, await start(elsewhere), 0, 90)).errors).toBeUndefined();

    const deleted = await call(sb, `mutation($id: ID!) { deleteImport(id: $id) }`, { id: first });
    expect(deleted.data).toEqual({ deleteImport: first });
    expect(await chunkCount(sb, first)).toBe(0);
    expect((await call(sb, `query($id: ID!) { import(id: $id) { id } }`, { id: first })).data).toEqual({ import: null });
    expect((await upload(sb, second, 0, 90)).errors).toBeUndefined();
  });

  it('deleteImport refuses a queued import and an unknown one, and needs the editor role', async () => {
    const sb = uniqueName('up');
    const id = await start(sb);
    expect((await upload(sb, id, 0, 10)).errors).toBeUndefined();
    expect((await call(sb, `mutation($id: ID!) { completeImportUpload(importId: $id, chunkCount: 1) { status } }`, { id })).data).toEqual({ completeImportUpload: { status: 'QUEUED' } });
    expect((await call(sb, `mutation($id: ID!) { deleteImport(id: $id) }`, { id })).errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', details: { status: 'QUEUED' } });
    expect((await call(sb, `mutation { deleteImport(id: "imp_nope") }`)).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const viewer = await postGraphQL(suite.url, `mutation($id: ID!) { deleteImport(id: $id) }`, { id }, { sandbox: sb, role: 'viewer' });
    expect(viewer.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('an upload with no chunk for the expiry time is failed by the sweep and its chunks removed; each chunk pushes the expiry back', async () => {
    const sb = uniqueName('up');
    const id = await start(sb);
    const imports = new ImportsRepository(suite.databases.sandbox(sb));
    expect((await upload(sb, id, 0, 10)).errors).toBeUndefined();
    clock.now = new Date(clock.now.getTime() + 90 * 60_000);
    expect((await upload(sb, id, 1, 10)).errors).toBeUndefined();
    clock.now = new Date(clock.now.getTime() + 90 * 60_000);
    // Three hours after the first chunk, 90 minutes after the last: not abandoned yet.
    expect(await expireAbandonedUploads(imports, clock.now)).toEqual([]);
    clock.now = new Date(clock.now.getTime() + 31 * 60_000);
    expect(await expireAbandonedUploads(imports, clock.now)).toEqual([id]);

    const record = (await call(sb, `query($id: ID!) { import(id: $id) { status failure } }`, { id })).data!.import;
    expect(record.status).toBe('FAILED');
    expect(record.failure).toMatch(/upload was abandoned/);
    expect(await chunkCount(sb, id)).toBe(0);
    expect((await upload(sb, id, 2, 10)).errors?.[0]?.extensions?.code).toBe('CONFLICT');
    // Its bytes no longer count against the quota.
    const next = await start(sb);
    expect((await upload(sb, next, 0, 100)).errors).toBeUndefined();
  });
});
