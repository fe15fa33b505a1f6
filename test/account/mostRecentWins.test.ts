/** Most recent wins: a record older than the stored version (a replayed export) never overwrites it. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountsRepository } from '../../subgraphs/account/accounts.repository.js';
import { startAccountSuite, UPSERT_ACCOUNTS, UPSERT_OPPORTUNITIES, type AccountSuite } from './support.js';

const SANDBOX = 'recency';
let t: AccountSuite;

beforeAll(async () => {
  t = await startAccountSuite(SANDBOX);
});
afterAll(async () => {
  await t?.suite.stop();
});

const upsert = async (accounts: Record<string, unknown>[]) => (await t.run(UPSERT_ACCOUNTS, { accounts })).upsertAccounts as any[];
const upsertOpps = async (opportunities: Record<string, unknown>[]) =>
  (await t.run(UPSERT_OPPORTUNITIES, { opportunities })).upsertOpportunities as any[];
const storedAccount = (sourceKey: string) => t.suite.databases.sandbox(SANDBOX).collection('accounts').findOne({ sourceKeys: sourceKey });

const JAN = '2026-01-01T00:00:00.000Z';
const FEB = '2026-02-01T00:00:00.000Z';
const MAR = '2026-03-01T00:00:00.000Z';

describe('upsertAccounts, most recent wins', () => {
  it('answers UPDATED with the stored values when an older export is replayed, and applies newer and equal ones', async () => {
    const key = 'MRW1@00DORG.Salesforce';
    const [created] = await upsert([{ sourceKey: key, name: 'Acme (Feb)', employees: 200, attributes: { tier: 'gold' }, sourceUpdatedAt: FEB }]);
    expect(created.status).toBe('CREATED');

    const [older] = await upsert([{ sourceKey: key, name: 'Acme (Jan)', employees: 100, attributes: { tier: 'bronze' }, sourceUpdatedAt: JAN }]);
    expect(older).toMatchObject({ status: 'UPDATED', error: null, account: { id: created.account.id, name: 'Acme (Feb)', employees: 200, attributes: { tier: 'gold' } } });
    expect(await storedAccount(key)).toMatchObject({ name: 'Acme (Feb)', employees: 200, attributes: { tier: 'gold' }, sourceUpdatedAt: new Date(FEB) });

    const [same] = await upsert([{ sourceKey: key, name: 'Acme (Feb)', employees: 200, sourceUpdatedAt: FEB }]);
    expect(same).toMatchObject({ status: 'UPDATED', account: { name: 'Acme (Feb)', employees: 200 } });

    const [newer] = await upsert([{ sourceKey: key, name: 'Acme (Mar)', sourceUpdatedAt: MAR }]);
    expect(newer).toMatchObject({ status: 'UPDATED', account: { name: 'Acme (Mar)', employees: 200 } });
    expect(await storedAccount(key)).toMatchObject({ name: 'Acme (Mar)', sourceUpdatedAt: new Date(MAR) });
  });

  it('keeps the newest within one batch, whatever order its records come in', async () => {
    const key = 'MRW2@00DORG.Salesforce';
    const results = await upsert([
      { sourceKey: key, name: 'March', sourceUpdatedAt: MAR },
      { sourceKey: key, name: 'January', sourceUpdatedAt: JAN },
    ]);
    expect(results.map((r) => [r.status, r.account.name])).toEqual([
      ['CREATED', 'March'],
      ['UPDATED', 'March'],
    ]);
    expect(await storedAccount(key)).toMatchObject({ name: 'March' });
  });

  it('still applies records without sourceUpdatedAt, as before', async () => {
    const key = 'MRW3@00DORG.Salesforce';
    await upsert([{ sourceKey: key, name: 'Dated', sourceUpdatedAt: JAN }]);
    const [undated] = await upsert([{ sourceKey: key, name: 'Undated' }]);
    expect(undated).toMatchObject({ status: 'UPDATED', account: { name: 'Undated' } });
  });

  it('does not overwrite a newer version stored by another request after the batch was read', async () => {
    const key = 'MRW4@00DORG.Salesforce';
    const [created] = await upsert([{ sourceKey: key, name: 'Old', sourceUpdatedAt: JAN }]);
    // The batch planned against the January version; a March version landed before its write.
    await t.suite.databases.sandbox(SANDBOX).collection('accounts').updateOne({ _id: created.account.id }, { $set: { name: 'Newest', sourceUpdatedAt: new Date(MAR) } });
    const repository = new AccountsRepository(t.suite.databases.sandbox(SANDBOX));
    const now = new Date();
    const outcome = await repository.saveAll([
      { id: created.account.id, create: false, set: { name: 'February', sourceUpdatedAt: new Date(FEB) }, attributes: {}, addSourceKeys: [], now, ifNotNewerThan: new Date(FEB) },
    ]);
    expect(outcome.failed.size).toBe(0);
    expect(outcome.superseded.get(0)).toMatchObject({ id: created.account.id, name: 'Newest' });
    expect(await storedAccount(key)).toMatchObject({ name: 'Newest', sourceUpdatedAt: new Date(MAR) });
  });
});

describe('upsertOpportunities, most recent wins', () => {
  it('keeps the stored stage and amount when an older record is replayed', async () => {
    const [account] = await upsert([{ sourceKey: 'MRWACC@00DORG.Salesforce', name: 'Buyer' }]);
    const key = 'MRWOPP@00DORG.Salesforce';
    const base = { sourceKey: key, accountId: account.account.id, name: 'Deal' };
    const [created] = await upsertOpps([{ ...base, stage: 'Negotiation', amount: 5000, sourceUpdatedAt: FEB }]);
    expect(created.status).toBe('CREATED');
    const [older] = await upsertOpps([{ ...base, stage: 'Prospecting', amount: 1000, sourceUpdatedAt: JAN }]);
    expect(older).toMatchObject({ status: 'UPDATED', error: null, opportunity: { id: created.opportunity.id, stage: 'Negotiation', amount: 5000 } });
    const [newer] = await upsertOpps([{ ...base, stage: 'Closed Won', isWon: true, sourceUpdatedAt: MAR }]);
    expect(newer).toMatchObject({ status: 'UPDATED', opportunity: { stage: 'Closed Won', amount: 5000, isWon: true } });
    const { opportunity } = await t.run('query($id: ID!) { opportunity(id: $id) { stage amount } }', { id: created.opportunity.id });
    expect(opportunity).toEqual({ stage: 'Closed Won', amount: 5000 });
  });
});
