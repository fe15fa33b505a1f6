/**
 * The admin API under the same document limits as /graphql, and failed
 * authentication limited per client address before any key lookup.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../../../lib/auth/roles.js';
import { createGatewayTokenSigner } from '../../../lib/auth/gatewayToken.js';
import { DomainError, ErrorCode } from '../../../lib/errors.js';
import { createApiKeyAuthenticator } from '../../../gateway/authenticate.js';
import { startTestPlatform, type TestPlatform } from '../../support/platform.js';
import { uniqueName } from '../../support/mongo.js';

const codes = (json: any): string[] => (json.errors ?? []).map((e: any) => e.extensions?.code);
const guess = () => `cdpk_${'A'.repeat(10)}${Math.random().toString(36).slice(2, 12).padEnd(33, 'b')}`;

async function post(url: string, body: unknown, headers: Record<string, string>) {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: response.status, headers: response.headers, json: (await response.json()) as any };
}

describe('admin API limits', () => {
  let platform: TestPlatform;
  let adminUrl: string;
  let auth: Record<string, string>;

  beforeAll(async () => {
    platform = await startTestPlatform();
    adminUrl = new URL('/admin/graphql', platform.gatewayUrl).toString();
    auth = { authorization: `Bearer ${await platform.keyFor(uniqueName('adm-'))}` };
  });
  afterAll(() => platform?.stop());

  it('refuses too many aliases, too much depth, too many tokens and too much cost', async () => {
    const aliases = (count: number) => `{ ${Array.from({ length: count }, (_, i) => `a${i}: auditLog(first: 500) { action }`).join(' ')} }`;
    const aliased = await post(adminUrl, { query: aliases(150) }, auth);
    expect(codes(aliased.json)).toEqual(['LIMIT_EXCEEDED']);
    expect(aliased.json.errors[0].message).toMatch(/^Aliases limit of 100 exceeded/);
    // The request of the finding: 1,000 aliases, refused (by its token count first).
    expect(codes((await post(adminUrl, { query: aliases(1_000) }, auth)).json)).toEqual(['LIMIT_EXCEEDED']);

    const nested = (levels: number): string => (levels === 0 ? 'name' : `ofType { ${nested(levels - 1)} }`);
    const deep = await post(adminUrl, { query: `{ __type(name: "Query") { fields { type { ${nested(12)} } } } }` }, auth);
    expect(codes(deep.json)).toEqual(['LIMIT_EXCEEDED']);
    expect(deep.json.errors[0].message).toMatch(/^Query depth limit of 12 exceeded/);

    const tokens = await post(adminUrl, { query: `{ ${Array.from({ length: 6_000 }, () => '__typename').join(' ')} }` }, auth);
    expect(codes(tokens.json)).toEqual(['LIMIT_EXCEEDED']);

    const costly = await post(adminUrl, { query: 'query ($n: Int) { auditLog(first: $n) { id at action target actorRole } }', variables: { n: 100_000 } }, auth);
    expect(codes(costly.json)).toEqual(['LIMIT_EXCEEDED']);
    expect(costly.json.errors[0].message).toMatch(/^Query cost limit of 50000 exceeded/);

    const fine = await post(adminUrl, { query: 'query ($n: Int) { auditLog(first: $n) { action } }', variables: { n: 10 } }, auth);
    expect(fine.json.errors).toBeUndefined();
  });
});

describe('failed authentication per client address', () => {
  let platform: TestPlatform;
  let adminUrl: string;

  beforeAll(async () => {
    platform = await startTestPlatform({ env: { CDP_AUTH_FAILURES_PER_MINUTE: '3' } });
    adminUrl = new URL('/admin/graphql', platform.gatewayUrl).toString();
  });
  afterAll(() => platform?.stop());

  it('limits failed authentication per client address with 429 and Retry-After, on /graphql and the admin API', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await post(platform.gatewayUrl, { query: '{ __typename }' }, { authorization: `Bearer ${guess()}` })).status);
    expect(statuses).toEqual([401, 401, 401]);
    for (const url of [platform.gatewayUrl, adminUrl]) {
      const refused = await post(url, { query: '{ __typename }' }, { authorization: `Bearer ${guess()}` });
      expect(refused.status).toBe(429);
      expect(codes(refused.json)).toEqual(['RATE_LIMITED']);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
  });
});

describe('failed authentication budget', () => {
  const principal: Principal = { sandbox: 'default', role: 'viewer', keyId: 'k1' } as Principal;
  const validKey = `cdpk_${'v'.repeat(43)}`;

  it('looks up no key once an address has spent its failures, counts addresses apart, and forgives after a minute', async () => {
    let clock = 0;
    const looked: string[] = [];
    const authenticator = createApiKeyAuthenticator({
      lookup: async (key) => {
        looked.push(key);
        if (key !== validKey) throw new DomainError(ErrorCode.Unauthenticated, 'no such key');
        return principal;
      },
      signer: createGatewayTokenSigner('s'.repeat(32)),
      failuresPerMinute: 2,
      now: () => clock,
    });
    const attempt = (key: string, address: string) => authenticator.authenticate({ authorization: `Bearer ${key}` }, { address });

    await expect(attempt(guess(), '10.0.0.1')).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    // Not even shaped like a key: refused without a lookup, but counted.
    await expect(attempt('cdpk_short', '10.0.0.1')).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(looked).toHaveLength(1);

    await expect(attempt(guess(), '10.0.0.1')).rejects.toMatchObject({ code: 'RATE_LIMITED', details: { retryAfterSeconds: 60 } });
    await expect(attempt(validKey, '10.0.0.1')).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    expect(looked).toHaveLength(1);

    await expect(attempt(validKey, '10.0.0.2')).resolves.toMatchObject({ sandbox: 'default' });
    clock += 60_000;
    await expect(attempt(guess(), '10.0.0.1')).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(looked).toHaveLength(3);
  });
});
