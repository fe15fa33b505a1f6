/**
 * A Salesforce source through the running platform (Bulk API 2.0 for the full
 * load, `query` by SystemModstamp for increments, deleted records), and a Marketo
 * source of the same sandbox whose leads carry that org's contact ids: a person in
 * both systems ends in one profile, exactly as with files.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ORG, sfId } from '../../lib/fixtures/exportFiles.js';
import { startMarketoSourceMock, type MarketoSourceMock } from '../mocks/marketoSourceMock.js';
import { startSalesforceMock, type SalesforceMock } from '../mocks/salesforceMock.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { createSource, nextFinishedSync, PLATFORM_ENV, profileOf, syncNow } from './support.js';

const MUNCHKIN = '333-CCC-333';
let platform: TestPlatform;
let salesforce: SalesforceMock;
let marketo: MarketoSourceMock;

beforeAll(async () => {
  platform = await startTestPlatform({ worker: true, env: PLATFORM_ENV });
  salesforce = await startSalesforceMock({ queryBatchSize: 3 });
  marketo = await startMarketoSourceMock();
});
afterAll(async () => {
  await marketo?.close();
  await salesforce?.close();
  await platform?.stop();
});

const contactKey = (n: number) => `${sfId('003', n)}@${ORG}.Salesforce`;

describe('a Salesforce source', () => {
  it('loads the org with Bulk API 2.0, follows changes by SystemModstamp, and joins a Marketo lead of the same person', { timeout: 180_000 }, async () => {
    for (let n = 1; n <= 3; n++) salesforce.addAccount(n);
    for (let n = 1; n <= 8; n++) salesforce.addContact(n, 1 + (n % 3));
    salesforce.addOpportunity(1, 1);
    salesforce.addContactRole(1, 1, 1);

    const source = await createSource(platform, {
      type: 'SALESFORCE',
      name: 'Salesforce production',
      config: { instanceUrl: salesforce.instanceUrl, loginUrl: salesforce.loginUrl, orgId: ORG, apiVersion: '62.0' },
      credentials: { clientId: salesforce.clientId, clientSecret: salesforce.clientSecret },
    });
    const full = await nextFinishedSync(platform, source.id);
    expect(full).toMatchObject({ mode: 'FULL', status: 'SUCCEEDED', rowsRejected: 0, failure: null });
    const loaded = Object.fromEntries(full.entities.map((entity) => [entity.entity, entity.rowsWritten]));
    expect(loaded).toMatchObject({ Account: 3, Contact: 8, Opportunity: 1, OpportunityContactRole: 1 });
    expect(await profileOf(platform, contactKey(2))).toMatchObject({ workEmail: 'contact2@account3.example', account: { name: 'Account 3' } });

    // Changed in Salesforce: two contacts edited, one added, one deleted; pages of 3 records follow nextRecordsUrl.
    salesforce.update('Contact', sfId('003', 2), { Title: 'VP Engineering' });
    salesforce.update('Contact', sfId('003', 5), { FirstName: 'Renamed' });
    salesforce.addContact(9, 1);
    salesforce.addContact(10, 1);
    salesforce.remove('Contact', sfId('003', 7));
    await syncNow(platform, source.id);
    const increment = await nextFinishedSync(platform, source.id, full.id);
    expect(increment).toMatchObject({ mode: 'INCREMENTAL', status: 'SUCCEEDED', rowsRejected: 0 });
    expect(increment.entities.find((entity) => entity.entity === 'Contact')).toMatchObject({ rowsWritten: 4 });
    expect(await profileOf(platform, contactKey(2))).toMatchObject({ jobTitle: 'VP Engineering' });
    expect(await profileOf(platform, contactKey(5))).toMatchObject({ firstName: 'Renamed' });
    expect(await profileOf(platform, contactKey(10))).toMatchObject({ workEmail: 'contact10@account1.example' });

    // A Marketo lead synced with this org (sfdcContactId) joins the contact's profile.
    const [leadId] = marketo.addLeads(1, new Date(Date.now() - 60_000), () => ({ sfdcContactId: sfId('003', 1), sfdcAccountId: sfId('001', 2) }));
    const marketoSource = await createSource(platform, {
      type: 'MARKETO',
      name: 'Marketo',
      config: { restUrl: marketo.restUrl, identityUrl: marketo.identityUrl, instanceId: MUNCHKIN, backfillFrom: new Date(Date.now() - 86_400_000).toISOString() },
      credentials: { clientId: marketo.clientId, clientSecret: marketo.clientSecret },
    });
    expect(await nextFinishedSync(platform, marketoSource.id)).toMatchObject({ status: 'SUCCEEDED', rowsRejected: 0 });
    const joined = await profileOf(platform, `${leadId}@${MUNCHKIN}.Marketo`);
    expect(joined.sourceKeys.sort()).toEqual([contactKey(1), `${leadId}@${MUNCHKIN}.Marketo`].sort());
    expect((await profileOf(platform, contactKey(1))).id).toBe(joined.id);

    expect(salesforce.state.refused).toMatchObject({ limit: 0, soql: 0, auth: 0 });
  });
});
