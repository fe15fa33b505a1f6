/** The mocks enforce the contracts the connector tests rely on: each refusal is shown to fire. */
import { afterEach, describe, expect, it } from 'vitest';
import { startLinkedInMock } from '../mocks/linkedinMock.js';
import { startMarketoMock } from '../mocks/marketoMock.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

async function json(response: Response): Promise<Record<string, any>> {
  return (await response.json()) as Record<string, any>;
}

describe('Marketo mock', () => {
  async function marketo(options: Parameters<typeof startMarketoMock>[0] = {}) {
    const mock = await startMarketoMock(options);
    closers.push(mock.close);
    const { access_token: token } = await json(await fetch(`${mock.identityUrl}/oauth/token?grant_type=client_credentials&client_id=${mock.clientId}&client_secret=${mock.clientSecret}`));
    const call = (path: string, init: RequestInit = {}) =>
      fetch(`${mock.restUrl}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers } }).then(json);
    return { mock, token: token as string, call };
  }

  it('refuses batches over 300, unknown tokens, and answers call-level errors as HTTP 200 with success false', async () => {
    const { mock, call } = await marketo();
    mock.createList(1);
    const input = Array.from({ length: 301 }, (_, i) => ({ email: `p${i}@example.com` }));
    expect(await call('/v1/leads.json', { method: 'POST', body: JSON.stringify({ action: 'createOrUpdate', lookupField: 'email', input }) })).toMatchObject({
      success: false,
      errors: [{ code: '1003' }],
    });
    expect(await call('/v1/lists/1/leads.json', { method: 'POST', body: JSON.stringify({ input: input.map((_, id) => ({ id })) }) })).toMatchObject({ errors: [{ code: '1003' }] });
    expect(await call('/v1/lists.json', { headers: { authorization: 'Bearer forged' } })).toMatchObject({ success: false, errors: [{ code: '601' }] });
    mock.expireTokens();
    expect(await call('/v1/lists.json')).toMatchObject({ errors: [{ code: '602' }] });
  });

  it('answers 606 beyond its calls per window and 615 beyond its calls in flight', async () => {
    const { mock, call } = await marketo({ callsPerWindow: 3, windowMs: 60_000, maxConcurrent: 2 });
    const release = mock.hold();
    const held = [call('/v1/lists.json'), call('/v1/lists.json')];
    await mock.whenInFlight(2);
    expect(await call('/v1/lists.json')).toMatchObject({ success: false, errors: [{ code: '615' }] });
    release();
    expect((await Promise.all(held)).map((answer) => answer.success)).toEqual([true, true]);
    expect((await call('/v1/lists.json')).success).toBe(true);
    expect(await call('/v1/lists.json')).toMatchObject({ errors: [{ code: '606' }] });
    expect(mock.state.refused).toMatchObject({ rate: 1, concurrency: 1 });
  });

  it('answers per-record statuses: created, updated, 1007 for several matches, 1015 when removing one not in the list', async () => {
    const { mock, call } = await marketo();
    mock.addLead({ email: 'twin@example.com' });
    mock.addLead({ email: 'twin@example.com' });
    const known = mock.addLead({ email: 'known@example.com' });
    mock.createList(5);
    const upsert = await call('/v1/leads.json', {
      method: 'POST',
      body: JSON.stringify({ action: 'createOrUpdate', lookupField: 'email', input: [{ email: 'new@example.com' }, { email: 'KNOWN@example.com' }, { email: 'twin@example.com' }] }),
    });
    expect(upsert.result.map((r: Record<string, unknown>) => r.status)).toEqual(['created', 'updated', 'skipped']);
    expect(upsert.result[2].reasons[0].code).toBe('1007');
    const removal = await call('/v1/lists/5/leads.json', { method: 'DELETE', body: JSON.stringify({ input: [{ id: known }, { id: 999999 }] }) });
    expect(removal.result.map((r: Record<string, any>) => r.reasons[0].code)).toEqual(['1015', '1004']);
  });
});

describe('LinkedIn mock', () => {
  async function linkedin(options: Parameters<typeof startLinkedInMock>[0] = {}) {
    const mock = await startLinkedInMock(options);
    closers.push(mock.close);
    const headers = { authorization: `Bearer ${mock.accessToken}`, 'linkedin-version': '202601', 'x-restli-protocol-version': '2.0.0', 'x-restli-method': 'BATCH_CREATE', 'content-type': 'application/json' };
    const stream = (segment: string, elements: unknown[], extra: Record<string, string> = {}) =>
      fetch(`${mock.apiUrl}/rest/dmpSegments/${segment}/users`, { method: 'POST', headers: { ...headers, ...extra }, body: JSON.stringify({ elements }) });
    return { mock, stream };
  }
  const user = (idValue: string) => ({ action: 'ADD', userIds: [{ idType: 'SHA256_EMAIL', idValue }] });
  const hash = 'a'.repeat(64);

  it('refuses bad hashes, missing headers, oversize batches and bad tokens', async () => {
    const { mock, stream } = await linkedin({ maxElements: 2 });
    const segment = mock.createSegment('USER');
    expect((await stream(segment, [user('A'.repeat(64))])).status).toBe(400);
    expect((await stream(segment, [user('test@example.com')])).status).toBe(400);
    expect((await stream(segment, [{ action: 'ADD' }])).status).toBe(400);
    expect((await stream(segment, [user(hash), user(hash), user(hash)])).status).toBe(400);
    expect((await stream(segment, [user(hash)], { 'x-restli-method': '' })).status).toBe(400);
    expect((await stream(segment, [user(hash)], { 'linkedin-version': '' })).status).toBe(400);
    expect((await stream(segment, [user(hash)], { authorization: 'Bearer other' })).status).toBe(401);
    expect((await stream(segment, [user(hash)])).status).toBe(200);
  });

  it('answers 429 with Retry-After beyond the per-member limit', async () => {
    const { mock, stream } = await linkedin({ usersPerWindow: 2, windowMs: 60_000 });
    const segment = mock.createSegment('USER');
    expect((await stream(segment, [user(hash)])).status).toBe(200);
    expect((await stream(segment, [user(hash)])).status).toBe(200);
    const limited = await stream(segment, [user(hash)]);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});
