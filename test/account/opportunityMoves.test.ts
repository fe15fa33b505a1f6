/**
 * An opportunity moved to another account records the account it left, so that readers of
 * the change stream (streaming evaluation) can re-evaluate both accounts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAccountSuite, UPSERT_ACCOUNTS, UPSERT_OPPORTUNITIES, type AccountSuite } from './support.js';

const SANDBOX = 'oppmoves';
let t: AccountSuite;

beforeAll(async () => {
  t = await startAccountSuite(SANDBOX);
});
afterAll(async () => {
  await t?.suite.stop();
});

const upsertAccounts = async (accounts: Record<string, unknown>[]) => (await t.run(UPSERT_ACCOUNTS, { accounts })).upsertAccounts as any[];
const upsertOpps = async (opportunities: Record<string, unknown>[]) => (await t.run(UPSERT_OPPORTUNITIES, { opportunities })).upsertOpportunities as any[];
const stored = (id: string) => t.suite.databases.sandbox(SANDBOX).collection('opportunities').findOne({ _id: id as never });

describe('moving an opportunity', () => {
  it('keeps the account it left as previousAccountId, and changes nothing there when the account stays', async () => {
    const [acme, globex] = await upsertAccounts([{ name: 'Acme' }, { name: 'Globex' }]);
    const [created] = await upsertOpps([{ sourceKey: 'OPP1@00DORG.Salesforce', accountId: acme.account.id, name: 'Renewal', stage: 'Negotiation' }]);
    expect(created.status).toBe('CREATED');
    expect(await stored(created.opportunity.id)).not.toHaveProperty('previousAccountId');

    const [moved] = await upsertOpps([{ sourceKey: 'OPP1@00DORG.Salesforce', accountId: globex.account.id }]);
    expect(moved).toMatchObject({ status: 'UPDATED', opportunity: { account: { id: globex.account.id } } });
    expect(await stored(created.opportunity.id)).toMatchObject({ accountId: globex.account.id, previousAccountId: acme.account.id });

    const [sameAccount] = await upsertOpps([{ sourceKey: 'OPP1@00DORG.Salesforce', accountId: globex.account.id, stage: 'Closed Won' }]);
    expect(sameAccount.status).toBe('UPDATED');
    expect(await stored(created.opportunity.id)).toMatchObject({ accountId: globex.account.id, previousAccountId: acme.account.id, stage: 'Closed Won' });
  });
});
