/** A platform with a worker for source tests, and the GraphQL the tests use to drive and read sources. */
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import type { TestPlatform } from '../support/platform.js';

export const GATEWAY_SECRET = randomBytes(32).toString('base64url');
export const ENCRYPTION_KEY = randomBytes(32).toString('hex');
export const PLATFORM_ENV = { CDP_GATEWAY_SECRET: GATEWAY_SECRET, CDP_ENCRYPTION_KEY: ENCRYPTION_KEY };

const SYNC_FIELDS = `id mode status rowsRead rowsWritten rowsRejected failure { code message }
  entities { entity rowsRead rowsWritten rowsRejected rowsDeleted } rejections { entity recordId code reason }`;

export const SOURCE_FIELDS = `id type name config syncIntervalSeconds credentialsUpdatedAt cursor lastSyncedAt nextAttemptAt
  failure { code message retryable } lastSync { ${SYNC_FIELDS} }`;

export interface SyncView {
  id: string;
  mode: 'FULL' | 'INCREMENTAL';
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  rowsRead: number;
  rowsWritten: number;
  rowsRejected: number;
  failure: { code: string; message: string } | null;
  entities: Array<{ entity: string; rowsRead: number; rowsWritten: number; rowsRejected: number; rowsDeleted: number }>;
  rejections: Array<{ entity: string; recordId: string; code: string; reason: string }>;
}

export interface SourceView {
  id: string;
  cursor: Record<string, unknown> | null;
  lastSync: SyncView | null;
  failure: { code: string; message: string; retryable: boolean } | null;
  nextAttemptAt: string | null;
  [field: string]: unknown;
}

export async function createSource(platform: TestPlatform, input: Record<string, unknown>): Promise<SourceView> {
  const response = await platform.query(`mutation($input: CreateSourceInput!) { createSource(input: $input) { ${SOURCE_FIELDS} } }`, { input });
  expect(response.errors).toBeUndefined();
  return response.data.createSource;
}

export async function readSource(platform: TestPlatform, id: string): Promise<SourceView> {
  const response = await platform.query(`query($id: ID!) { source(id: $id) { ${SOURCE_FIELDS} } }`, { id });
  expect(response.errors).toBeUndefined();
  return response.data.source;
}

export async function syncNow(platform: TestPlatform, id: string, mode: 'FULL' | 'INCREMENTAL' = 'INCREMENTAL'): Promise<void> {
  const response = await platform.query(`mutation($id: ID!, $mode: SyncMode) { syncSource(id: $id, mode: $mode) { id } }`, { id, mode });
  expect(response.errors).toBeUndefined();
}

/** Waits until the source's newest sync is another than `after` and has ended; answers it. */
export async function nextFinishedSync(platform: TestPlatform, id: string, after: string | null = null): Promise<SyncView> {
  let finished: SyncView | undefined;
  await expect
    .poll(
      async () => {
        const sync = (await readSource(platform, id)).lastSync;
        if (sync && sync.id !== after && sync.status !== 'RUNNING') finished = sync;
        return finished !== undefined;
      },
      { timeout: 60_000, interval: 200 },
    )
    .toBe(true);
  return finished!;
}

export const PROFILE_BY_KEY = `query($value: String!) {
  profileByIdentity(namespace: "b2b_person", value: $value) {
    id sourceKeys workEmail firstName jobTitle leadScore consents { marketingEmail }
    account { name }
    events(first: 200) { edges { node { type url } } }
  }
}`;

export async function profileOf(platform: TestPlatform, sourceKey: string) {
  const response = await platform.query(PROFILE_BY_KEY, { value: sourceKey });
  expect(response.errors).toBeUndefined();
  return response.data.profileByIdentity;
}
