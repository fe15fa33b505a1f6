/** Accounts: idempotent upserts by source key, parents, custom attributes, pagination, bad input. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAccountSuite, UPSERT_ACCOUNTS, type AccountSuite } from './support.js';

const SANDBOX = 'accounts';
let t: AccountSuite;

beforeAll(async () => {
  t = await startAccountSuite(SANDBOX);
});
afterAll(async () => {
  await t?.suite.stop();
});

const upsert = async (accounts: Record<string, unknown>[]) => (await t.run(UPSERT_ACCOUNTS, { accounts })).upsertAccounts as any[];
const count = () => t.suite.databases.sandbox(SANDBOX).collection('accounts').countDocuments();

describe('upsertAccounts', () => {
  it('is idempotent on source key: sending the same record again updates the same account', async () => {
    const record = {
      sourceKey: '0015e00000Acme@00D5e000001XyZ.Salesforce',
      name: 'Acme',
      domain: 'https://www.Acme.example/about',
      industry: 'Software',
      annualRevenue: 2.5e8,
      employees: 1200,
      country: 'US',
      type: 'Customer',
      attributes: { tier: 'gold' },
    };
    const [first] = await upsert([record]);
    expect(first).toMatchObject({
      status: 'CREATED',
      error: null,
      account: { name: 'Acme', domain: 'acme.example', type: 'Customer', attributes: { tier: 'gold' }, sourceKeys: [record.sourceKey], parent: null },
    });
    expect(first.account.id).toMatch(/^acc_/);
    const before = await count();

    const [again] = await upsert([record]);
    expect(again).toMatchObject({ status: 'UPDATED', account: { id: first.account.id, name: 'Acme', sourceKeys: [record.sourceKey] } });
    const [changed] = await upsert([{ sourceKey: record.sourceKey, employees: 1300, attributes: { region: 'EMEA' } }]);
    expect(changed.account).toMatchObject({ id: first.account.id, name: 'Acme', employees: 1300, attributes: { tier: 'gold', region: 'EMEA' } });
    expect(changed.account.createdAt).toBe(first.account.createdAt);
    expect(await count()).toBe(before);

    const { accountBySourceKey } = await t.run('query($k: String!) { accountBySourceKey(sourceKey: $k) { id employees } }', { k: record.sourceKey });
    expect(accountBySourceKey).toEqual({ id: first.account.id, employees: 1300 });
  });

  it('keeps two instances that reuse a source id as two accounts', async () => {
    const results = await upsert([
      { sourceKey: '42@111-AAA-111.Marketo', name: 'Initech (instance 1)' },
      { sourceKey: '42@222-BBB-222.Marketo', name: 'Initech (instance 2)' },
    ]);
    expect(results.map((r) => r.status)).toEqual(['CREATED', 'CREATED']);
    expect(results[0].account.id).not.toBe(results[1].account.id);
    const again = await upsert([{ sourceKey: '42@222-BBB-222.Marketo', name: 'Initech 2' }]);
    expect(again[0].account.id).toBe(results[1].account.id);
  });

  it('adds a source key to an account updated by id, and refuses a key another account holds', async () => {
    const [a, b] = await upsert([
      { sourceKey: 'A1@00DORG.Salesforce', name: 'Umbrella' },
      { sourceKey: 'B1@00DORG.Salesforce', name: 'Umbrella dup' },
    ]);
    const [attached, stolen] = await upsert([
      { id: a.account.id, sourceKey: '900@333-CCC-333.Marketo' },
      { id: a.account.id, sourceKey: 'B1@00DORG.Salesforce', name: 'Hijack' },
    ]);
    expect(attached).toMatchObject({ status: 'UPDATED', account: { sourceKeys: ['A1@00DORG.Salesforce', '900@333-CCC-333.Marketo'] } });
    expect(stolen).toMatchObject({ status: 'REJECTED', error: { code: 'CONFLICT', field: 'sourceKey' } });
    const { account } = await t.run('query($id: ID!) { account(id: $id) { name } }', { id: a.account.id });
    expect(account.name).toBe('Umbrella');
    const { accountBySourceKey } = await t.run('query { accountBySourceKey(sourceKey: "900@333-CCC-333.Marketo") { id } }', {});
    expect(accountBySourceKey.id).toBe(a.account.id);
    expect(b.account.id).not.toBe(a.account.id);
  });

  it('creates an account once when several requests send the same new source key at the same time', async () => {
    const sourceKey = '001RACE@00D5e000001XyZ.Salesforce';
    const calls = await Promise.all(Array.from({ length: 6 }, (_, n) => upsert([{ sourceKey, name: `Racer ${n}` }])));
    const results = calls.map(([result]) => result);
    const stored = await t.suite.databases.sandbox(SANDBOX).collection('accounts').find({ sourceKeys: sourceKey }).toArray();
    expect(stored).toHaveLength(1);
    expect(results.filter((result) => result.status === 'CREATED').length).toBeGreaterThanOrEqual(1);
    // Each racer either got the one stored account or lost with a CONFLICT on the source key.
    const outcomes = results.map((result) => (result.status === 'REJECTED' ? `REJECTED ${result.error.code} ${result.error.field}` : `${result.status} ${result.account.id}`));
    const allowed = ['REJECTED CONFLICT sourceKey', `CREATED ${stored[0]!._id}`, `UPDATED ${stored[0]!._id}`];
    expect(outcomes.filter((outcome) => !allowed.includes(outcome))).toEqual([]);
    // A record that lost the race is simply sent again: it updates the account that won.
    const [again] = await upsert([{ sourceKey, name: 'Racer again' }]);
    expect(again).toMatchObject({ status: 'UPDATED', account: { id: stored[0]!._id, name: 'Racer again' } });
  });

  it('sets the parent by source key, also from a parent created earlier in the same call', async () => {
    const [holding, subsidiary, byId] = await upsert([
      { sourceKey: 'HQ@00DORG.Salesforce', name: 'Holding' },
      { sourceKey: 'SUB@00DORG.Salesforce', name: 'Subsidiary', parentSourceKey: 'HQ@00DORG.Salesforce' },
      { sourceKey: 'SUB2@00DORG.Salesforce', name: 'Other subsidiary' },
    ]);
    expect(subsidiary).toMatchObject({ status: 'CREATED', account: { parent: { id: holding.account.id, name: 'Holding' } } });
    const [reparented] = await upsert([{ sourceKey: 'SUB2@00DORG.Salesforce', parentAccountId: holding.account.id }]);
    expect(reparented.account.parent).toEqual({ id: holding.account.id, name: 'Holding' });
    expect(byId.account.id).toBe(reparented.account.id);

    const { account } = await t.run('query($id: ID!) { account(id: $id) { name parent { name parent { name } } } }', { id: subsidiary.account.id });
    expect(account).toEqual({ name: 'Subsidiary', parent: { name: 'Holding', parent: null } });
  });

  it('rejects unknown references with NOT_FOUND and bad records with BAD_USER_INPUT, writing nothing for them', async () => {
    const before = await count();
    const results = await upsert([
      { sourceKey: 'X1@00DORG.Salesforce', name: 'Orphan', parentSourceKey: 'MISSING@00DORG.Salesforce' },
      { name: 'Orphan 2', parentAccountId: 'acc_missing' },
      { id: 'acc_missing', name: 'Ghost' },
      { sourceKey: 'X2@00DORG.Salesforce', domain: 'nameless.example' },
      { sourceKey: 'not a source key', name: 'Bad key' },
      { name: 'Neg', employees: -3 },
      { name: 'Bad domain', domain: 'not a domain' },
      { name: 'Both parents', parentAccountId: 'acc_x', parentSourceKey: 'P@00DORG.Salesforce' },
      { sourceKey: 'SELF@00DORG.Salesforce', name: 'Self' },
      { sourceKey: 'SELF@00DORG.Salesforce', parentSourceKey: 'SELF@00DORG.Salesforce' },
    ]);
    expect(results.map((r) => [r.status, r.error?.code ?? null, r.error?.field ?? null])).toEqual([
      ['REJECTED', 'NOT_FOUND', 'parentSourceKey'],
      ['REJECTED', 'NOT_FOUND', 'parentAccountId'],
      ['REJECTED', 'NOT_FOUND', 'id'],
      ['REJECTED', 'BAD_USER_INPUT', 'name'],
      ['REJECTED', 'BAD_USER_INPUT', 'sourceKey'],
      ['REJECTED', 'BAD_USER_INPUT', 'employees'],
      ['REJECTED', 'BAD_USER_INPUT', 'domain'],
      ['REJECTED', 'BAD_USER_INPUT', 'parentSourceKey'],
      ['CREATED', null, null],
      ['REJECTED', 'BAD_USER_INPUT', 'parentAccountId'],
    ]);
    expect(results[0].error.message).toMatch(/MISSING@00DORG\.Salesforce/);
    expect(await count()).toBe(before + 1);
    const { accountBySourceKey } = await t.run('query { accountBySourceKey(sourceKey: "SELF@00DORG.Salesforce") { parent { id } } }', {});
    expect(accountBySourceKey.parent).toBeNull();
  });

  it('refuses the whole call, writing nothing, for operator-like or NUL-holding attribute keys, wrong types and batches over 1000', async () => {
    const before = await count();
    for (const attributes of [{ $where: 'x' }, { 'a.b': 1 }, { nested: { $gt: 1 } }, { 'bad\u0000key': 1 }]) {
      const response = await t.post(UPSERT_ACCOUNTS, { accounts: [{ name: 'Fine' }, { name: 'Injected', attributes }] });
      expect(response.errors?.[0].extensions?.code, JSON.stringify(attributes)).toBe('BAD_USER_INPUT');
      expect(response.errors?.[0].message).toMatch(/accounts\[1\]\.attributes/);
    }
    const wrongType = await t.post(UPSERT_ACCOUNTS, { accounts: [{ name: 'Typed', employees: 'many' }] });
    expect(wrongType.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    const tooMany = await t.post(UPSERT_ACCOUNTS, { accounts: Array.from({ length: 1001 }, (_, i) => ({ name: `A${i}` })) });
    expect(tooMany.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    expect(tooMany.errors?.[0].message).toMatch(/at most 1000/);
    expect(await count()).toBe(before);
  });

  it('accepts 1000 records in one call', async () => {
    const results = await upsert(Array.from({ length: 1000 }, (_, i) => ({ sourceKey: `${i}@BULK.Marketo`, name: `Bulk ${i}` })));
    expect(results.map((r) => r.status)).toEqual(new Array(1000).fill('CREATED'));
    const again = await upsert(Array.from({ length: 1000 }, (_, i) => ({ sourceKey: `${i}@BULK.Marketo`, name: `Bulk ${i}` })));
    expect(again.map((r) => [r.status, r.account.id])).toEqual(results.map((r) => ['UPDATED', r.account.id]));
  });
});

describe('accounts connection', () => {
  it('pages through every account in creation order with cursors', async () => {
    const sandbox = 'paging';
    const paging = await startAccountSuite(sandbox);
    try {
      const created = (await paging.run(UPSERT_ACCOUNTS, { accounts: Array.from({ length: 7 }, (_, i) => ({ name: `Page ${i}` })) })).upsertAccounts;
      const query = 'query($first: Int, $after: String) { accounts(first: $first, after: $after) { edges { cursor node { id name } } pageInfo { hasNextPage endCursor } } }';
      const ids: string[] = [];
      let after: string | null = null;
      const pages: boolean[] = [];
      for (;;) {
        const { accounts }: any = await paging.run(query, { first: 3, after });
        ids.push(...accounts.edges.map((edge: any) => edge.node.id));
        expect(accounts.edges.at(-1)?.cursor ?? null).toBe(accounts.pageInfo.endCursor);
        pages.push(accounts.pageInfo.hasNextPage);
        if (!accounts.pageInfo.hasNextPage) break;
        after = accounts.pageInfo.endCursor;
      }
      expect(pages).toEqual([true, true, false]);
      expect(ids).toEqual(created.map((r: any) => r.account.id));
      const bad = await paging.post(query, { first: 0 });
      expect(bad.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    } finally {
      await paging.suite.stop();
    }
  });
});
