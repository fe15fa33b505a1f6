/**
 * The three Marketo operations a delivery is made of, each for one chunk of at
 * most 300: find leads by a lookup field, createOrUpdate leads, and add to or
 * remove from a static list. Each returns per-record results; a call-level
 * failure is thrown for the caller to record against the whole chunk.
 */
import type { AttributeValue } from '../connector.js';
import { isRecord } from '../../../../lib/connectors/http.js';
import type { MarketoClient } from '../../../../lib/marketo/marketoClient.js';

export interface RecordStatus {
  ok: boolean;
  /** Marketo's record-level code when skipped (1004, 1005, 1007, 1015, ...). */
  code?: string;
  message?: string;
  id?: number;
}

/** Lead ids by lookup value (emails lowercased). Reads use POST with `_method=GET`: 300 emails overflow Marketo's 8 KB URL limit. */
export async function findLeads(client: MarketoClient, keys: readonly string[], lookupField: string): Promise<Map<string, number[]>> {
  const found = new Map<string, number[]>();
  let nextPageToken: string | undefined;
  do {
    const form: Record<string, string> = { filterType: lookupField, filterValues: keys.join(','), fields: `id,${lookupField}`, batchSize: '300' };
    if (nextPageToken) form.nextPageToken = nextPageToken;
    const page = await client.call({ method: 'POST', path: '/v1/leads.json', query: { _method: 'GET' }, form });
    for (const lead of page.result) {
      if (!isRecord(lead) || typeof lead.id !== 'number') continue;
      const value = lead[lookupField];
      if (typeof value !== 'string') continue;
      const key = normalizeKey(value, lookupField);
      found.set(key, [...(found.get(key) ?? []), lead.id]);
    }
    nextPageToken = page.moreResult ? page.nextPageToken : undefined;
  } while (nextPageToken);
  return found;
}

/** createOrUpdate; results in input order. */
export async function upsertLeads(
  client: MarketoClient,
  inputs: ReadonlyArray<Record<string, AttributeValue>>,
  lookupField: string,
): Promise<RecordStatus[]> {
  const answer = await client.call({ method: 'POST', path: '/v1/leads.json', json: { action: 'createOrUpdate', lookupField, input: inputs } });
  return inputs.map((_, index) => recordStatus(answer.result[index], ['created', 'updated']));
}

/** Adds (POST) or removes (DELETE) lead ids; results by lead id. */
export async function changeList(client: MarketoClient, method: 'POST' | 'DELETE', listId: number, ids: readonly number[]): Promise<Map<number, RecordStatus>> {
  const answer = await client.call({ method, path: `/v1/lists/${listId}/leads.json`, json: { input: ids.map((id) => ({ id })) } });
  const byId = new Map<number, RecordStatus>();
  for (const record of answer.result) {
    const status = recordStatus(record, ['added', 'removed']);
    if (status.id !== undefined) byId.set(status.id, status);
  }
  return byId;
}

/** Every lead of a static list, page by page. */
export async function* listLeads(client: MarketoClient, listId: number): AsyncGenerator<{ id: number; email: string | null }> {
  let nextPageToken: string | undefined;
  do {
    const query: Record<string, string> = { fields: 'id,email', batchSize: '300' };
    if (nextPageToken) query.nextPageToken = nextPageToken;
    const page = await client.call({ method: 'GET', path: `/v1/lists/${listId}/leads.json`, query });
    for (const lead of page.result) {
      if (isRecord(lead) && typeof lead.id === 'number') yield { id: lead.id, email: typeof lead.email === 'string' ? lead.email : null };
    }
    nextPageToken = page.moreResult ? page.nextPageToken : undefined;
  } while (nextPageToken);
}

export function normalizeKey(value: string, lookupField: string): string {
  const trimmed = value.trim();
  return lookupField === 'email' ? trimmed.toLowerCase() : trimmed;
}

function recordStatus(record: unknown, okStatuses: readonly string[]): RecordStatus {
  if (!isRecord(record)) return { ok: false, code: 'MISSING_RESULT', message: 'Marketo returned no result for this record' };
  const id = typeof record.id === 'number' ? record.id : undefined;
  if (typeof record.status === 'string' && okStatuses.includes(record.status)) return { ok: true, id };
  const reason: unknown = Array.isArray(record.reasons) ? record.reasons[0] : undefined;
  return {
    ok: false,
    id,
    code: isRecord(reason) && reason.code !== undefined ? String(reason.code) : 'SKIPPED',
    message: isRecord(reason) && typeof reason.message === 'string' ? reason.message : 'Marketo skipped this record',
  };
}
