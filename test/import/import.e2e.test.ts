/**
 * Imports end to end: files made by the factories go through the gateway's
 * import API to the worker's import job, which writes through the profile and
 * account subgraphs; the results are read back through the gateway.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MongoClient } from 'mongodb';
import { createDatabases } from '../../lib/mongo/databases.js';
import { silentLogger } from '../../lib/logger.js';
import { createIngestionClient, IngestionError, type IngestionClient } from '../../subgraphs/profile/imports/ingestionClient.js';
import { runImport } from '../../subgraphs/profile/imports/runImport.js';
import { ImportsRepository } from '../../subgraphs/profile/imports/imports.repository.js';
import { ImportsService } from '../../subgraphs/profile/imports/imports.service.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { connectTestClient } from '../support/mongo.js';
import {
  MARKETO_ACTIVITY_COLUMNS,
  MARKETO_LEAD_COLUMNS,
  MUNCHKIN,
  ORG,
  SALESFORCE_ACCOUNT_COLUMNS,
  SALESFORCE_CONTACT_COLUMNS,
  csvLine,
  csvText,
  marketoActivity,
  marketoLead,
  salesforceAccount,
  salesforceContact,
  sfId,
} from '../../lib/fixtures/exportFiles.js';
import { importErrors, runImportThroughGateway } from './support/importClient.js';

const GATEWAY_SECRET = randomBytes(32).toString('base64url');
let platform: TestPlatform;
let client: MongoClient;

beforeAll(async () => {
  platform = await startTestPlatform({ worker: true, env: { CDP_GATEWAY_SECRET: GATEWAY_SECRET } });
  client = await connectTestClient();
});
afterAll(async () => {
  await client?.close();
  await platform?.stop();
});

const PROFILE_BY_LEAD = `query($value: String!) {
  profileByIdentity(namespace: "b2b_person", value: $value) {
    id sourceKeys workEmail leadScore consents { marketingEmail } attributes
    account { name }
    events(first: 200) { edges { node { type } } }
  }
}`;

async function profileOf(sourceKey: string) {
  const response = await platform.query(PROFILE_BY_LEAD, { value: sourceKey });
  expect(response.errors).toBeUndefined();
  return response.data.profileByIdentity;
}

describe('importing a Marketo leads file with malformed rows', () => {
  it('keeps the valid rows and reports each bad row with its line number and reason', async () => {
    const lines = ['id', 'email', 'firstName', 'leadScore', 'unsubscribed'];
    const rows = Array.from({ length: 12 }, (_, n) => csvLine(lines, marketoLead(n, { leadScore: n })));
    rows[2] = csvLine(lines, marketoLead(2, { email: 'not-an-email' })); // line 4
    rows[4] = csvLine(lines, marketoLead(4, { leadScore: 'lots' })); // line 6
    rows[6] = `${csvLine(lines, marketoLead(6))},surplus`; // line 8
    rows[11] = `1011,"lead11@example.com,First11,11,false`; // line 13: the quote never closes
    const text = `${lines.join(',')}\n${rows.join('\n')}\n`;

    const result = await runImportThroughGateway(platform, { source: 'marketo', instance: MUNCHKIN, entity: 'leads' }, text, 100);
    expect(result).toMatchObject({ status: 'SUCCEEDED', rowsImported: 8, rowsRejected: 4, rowsTotal: 12, failure: null });
    const errors = await importErrors(platform, result.id);
    expect(errors.map((e) => [e.line, e.code])).toEqual([
      [4, 'BAD_USER_INPUT'],
      [6, 'BAD_USER_INPUT'],
      [8, 'WRONG_FIELD_COUNT'],
      [13, 'MALFORMED_CSV'],
    ]);
    expect(errors[0]!.reason).toMatch(/"not-an-email" is not a valid email/);
    expect(errors[1]!.reason).toMatch(/leadScore: "lots" is not a number/);

    const kept = await profileOf(`1003@${MUNCHKIN}.Marketo`);
    expect(kept).toMatchObject({ workEmail: 'lead3@example3.com', leadScore: 3, consents: { marketingEmail: 'y' } });
    expect(kept.sourceKeys).toEqual([`1003@${MUNCHKIN}.Marketo`]);
    expect((await profileOf(`1000@${MUNCHKIN}.Marketo`)).consents).toEqual({ marketingEmail: 'n' });
    expect(await profileOf(`1002@${MUNCHKIN}.Marketo`)).toBeNull();
  });

  it('rejects alone a row the database could not store (a NUL in an attribute key) and writes the others', async () => {
    const rows = Array.from({ length: 5 }, (_, n) => marketoActivity(n, 3000 + n));
    rows[2] = marketoActivity(2, 3002, { attributes: JSON.stringify({ 'bad\u0000key': 1 }) }); // line 4
    const result = await runImportThroughGateway(platform, { source: 'marketo', instance: MUNCHKIN, entity: 'activities' }, csvText(MARKETO_ACTIVITY_COLUMNS, rows));
    expect(result).toMatchObject({ status: 'SUCCEEDED', rowsImported: 4, rowsRejected: 1, failure: null });
    const errors = await importErrors(platform, result.id);
    expect(errors).toEqual([{ line: 4, code: 'BAD_USER_INPUT', reason: expect.stringMatching(/attributes: JSON key .* holds a NUL character/) }]);
    for (const n of [0, 1, 3, 4]) expect((await profileOf(`${3000 + n}@${MUNCHKIN}.Marketo`)).events.edges).toHaveLength(1);
  });

  it('fails an import whose file lacks a required column, saying how to map it', async () => {
    const result = await runImportThroughGateway(platform, { source: 'marketo', instance: MUNCHKIN, entity: 'leads' }, 'email,firstName\na@b.example,A\n');
    expect(result.status).toBe('FAILED');
    expect(result.failure).toMatch(/no column for id .*mapping file/);
  });
});

describe('the import API refuses bad input with what to fix', () => {
  const start = (input: Record<string, unknown>) =>
    platform.query(`mutation($input: StartImportInput!) { startImport(input: $input) { id } }`, { input }, { role: 'editor' });

  it.each([
    [{ source: 'hubspot', instance: MUNCHKIN, entity: 'leads' }, /source "hubspot" is not supported; use one of marketo, salesforce/],
    [{ source: 'salesforce', instance: ORG, entity: 'Case' }, /entity "Case" is not a salesforce export; use one of Account, Contact/],
    [{ source: 'marketo', instance: 'abc', entity: 'leads' }, /not a Marketo instance id; use the form 123-ABC-456/],
    [{ source: 'salesforce', instance: ORG, entity: 'Contact', crmInstance: ORG }, /crmInstance applies to Marketo imports only/],
    [{ source: 'marketo', instance: MUNCHKIN, entity: 'leads', mapping: { Col: 'shoeSize' } }, /"shoeSize", which is not a field of marketo leads/],
  ])('startImport(%j)', async (input, message) => {
    const response = await start(input);
    expect(response.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    expect(response.errors?.[0]?.message).toMatch(message);
  });

  it('needs the editor role to start an import', async () => {
    const response = await platform.query(
      `mutation { startImport(input: { source: "marketo", instance: "${MUNCHKIN}", entity: "leads" }) { id } }`,
      {},
      { role: 'viewer' },
    );
    expect(response.errors?.[0]).toMatchObject({ extensions: { code: 'FORBIDDEN' } });
  });

  it('refuses to complete an upload with a missing chunk, and chunks after completion', async () => {
    const { data } = await start({ source: 'marketo', instance: MUNCHKIN, entity: 'leads' });
    const id = data.startImport.id;
    const upload = (index: number) =>
      platform.query(`mutation($id: ID!, $i: Int!) { uploadImportChunk(importId: $id, index: $i, content: "id\\n1\\n") { id } }`, { id, i: index }, { role: 'editor' });
    await upload(0);
    await upload(0);
    await upload(2);
    const complete = (n: number) =>
      platform.query(`mutation($id: ID!, $n: Int!) { completeImportUpload(importId: $id, chunkCount: $n) { status } }`, { id, n }, { role: 'editor' });
    const incomplete = await complete(3);
    expect(incomplete.errors?.[0]?.message).toMatch(/Chunks 1 of 3 have not been uploaded/);
    await upload(1);
    expect((await complete(3)).data.completeImportUpload.status).toMatch(/QUEUED|RUNNING|SUCCEEDED/);
    const late = await upload(3);
    expect(late.errors?.[0]).toMatchObject({ extensions: { code: 'CONFLICT' } });
  });
});

describe('Marketo synced with Salesforce', () => {
  it('joins leads to the Salesforce contacts and accounts of the org named by crmInstance', async () => {
    const accounts = csvText(SALESFORCE_ACCOUNT_COLUMNS, [salesforceAccount(1), salesforceAccount(2)]);
    expect(await runImportThroughGateway(platform, { source: 'salesforce', instance: ORG, entity: 'Account' }, accounts)).toMatchObject({
      status: 'SUCCEEDED',
      rowsImported: 2,
    });
    const contacts = csvText(SALESFORCE_CONTACT_COLUMNS, [salesforceContact(1, 1), salesforceContact(2, 2)]);
    expect(await runImportThroughGateway(platform, { source: 'salesforce', instance: ORG, entity: 'Contact' }, contacts)).toMatchObject({
      status: 'SUCCEEDED',
      rowsImported: 2,
    });
    // The Marketo lead has another email than the contact: only sfdcContactId can join them.
    const leads = csvText(MARKETO_LEAD_COLUMNS, [
      marketoLead(501, { sfdcContactId: sfId('003', 1), sfdcAccountId: sfId('001', 1) }),
      marketoLead(502, { sfdcLeadId: '00Q5e0000000009' }),
    ]);
    const result = await runImportThroughGateway(platform, { source: 'marketo', instance: MUNCHKIN, entity: 'leads', crmInstance: ORG }, leads);
    expect(result).toMatchObject({ status: 'SUCCEEDED', rowsImported: 2, rowsRejected: 0 });

    const joined = await profileOf(`1501@${MUNCHKIN}.Marketo`);
    expect(joined.sourceKeys.sort()).toEqual([`${sfId('003', 1)}@${ORG}.Salesforce`, `1501@${MUNCHKIN}.Marketo`].sort());
    expect(joined.account).toEqual({ name: 'Account 1' });
    expect((await profileOf(`${sfId('003', 1)}@${ORG}.Salesforce`)).id).toBe(joined.id);
    expect((await profileOf(`${sfId('003', 2)}@${ORG}.Salesforce`)).id).not.toBe(joined.id);
  });
});

describe('an import that crashes part-way', () => {
  it('resumes from its checkpoint and ends with exact counts and no duplicate events', async () => {
    const leadCount = 5;
    // Emails of their own, so these leads merge with no profile another test of this file made.
    const leads = Array.from({ length: leadCount }, (_, n) => marketoLead(n, { email: `crash${n}@resume.example` }));
    await runImportThroughGateway(platform, { source: 'marketo', instance: '111-AAA-111', entity: 'leads' }, csvText(MARKETO_LEAD_COLUMNS, leads));
    const activities = Array.from({ length: 23 }, (_, n) => marketoActivity(n, 1000 + (n % leadCount)));
    activities[9] = marketoActivity(9, 1000, { activityDate: 'soon' });
    const id = await uploadImportWithoutJob(csvText(MARKETO_ACTIVITY_COLUMNS, activities));

    const imports = new ImportsRepository(createDatabases(client, platform.databasePrefix).sandbox('default'));
    const real = createIngestionClient({
      subgraphUrls: Object.fromEntries(Object.entries(platform.subgraphs).map(([name, service]) => [name, service.url])) as never,
      gatewaySecret: GATEWAY_SECRET,
      principal: { sandbox: 'default', role: 'editor' },
    });
    // The worker dies after its third batch was written but before that batch's checkpoint.
    let calls = 0;
    const dying: IngestionClient = {
      send: async (kind, inputs) => {
        const results = await real.send(kind, inputs);
        if (++calls === 3) throw new Error('worker killed');
        return results;
      },
    };
    const deps = { imports, logger: silentLogger, now: () => new Date(), batchRows: 5 };
    await expect(runImport(id, { ...deps, client: dying })).rejects.toThrow('worker killed');
    expect(await imports.findById(id)).toMatchObject({ status: 'RUNNING', checkpointLine: 11, rowsImported: 9, rowsRejected: 1 });

    const finished = await runImport(id, { ...deps, client: real });
    expect(finished).toMatchObject({ status: 'SUCCEEDED', rowsImported: 22, rowsRejected: 1, rowsTotal: 23 });
    expect((await importErrors(platform, id)).map((e) => e.line)).toEqual([11]);
    let events = 0;
    for (let n = 0; n < leadCount; n++) events += (await profileOf(`${1000 + n}@111-AAA-111.Marketo`)).events.edges.length;
    expect(events).toBe(22);
    // A second run of a finished import changes nothing.
    expect(await runImport(id, { ...deps, client: dying })).toMatchObject({ status: 'SUCCEEDED', rowsImported: 22 });
  });
});

describe('an import whose subgraph refuses or cannot be reached', () => {
  it('fails with a message that says what happened and what to do', async () => {
    const id = await uploadImportWithoutJob(csvText(MARKETO_ACTIVITY_COLUMNS, [marketoActivity(0, 1000)]));
    const imports = new ImportsRepository(createDatabases(client, platform.databasePrefix).sandbox('default'));
    const unreachable: IngestionClient = {
      send: async () => {
        throw new IngestionError('the profile subgraph at http://127.0.0.1:9/graphql could not be reached');
      },
    };
    const failed = await runImport(id, { imports, client: unreachable, logger: silentLogger, now: () => new Date() });
    expect(failed).toMatchObject({ status: 'FAILED', rowsImported: 0 });
    expect(failed!.failure).toMatch(/could not be reached\. .*check that the subgraphs are running, then import the file again/);
  });
});

/** An uploaded import that no worker will pick up: the test runs its job by hand. */
async function uploadImportWithoutJob(text: string): Promise<string> {
  const service = new ImportsService(new ImportsRepository(createDatabases(client, platform.databasePrefix).sandbox('default')), {
    principal: { sandbox: 'default', role: 'editor' },
    now: () => new Date(),
    scheduler: { schedule: async () => {} },
  });
  const { id } = await service.start({ source: 'marketo', instance: '111-AAA-111', entity: 'activities' });
  const chunks = text.match(/[\s\S]{1,200}/g)!;
  for (const [index, content] of chunks.entries()) await service.uploadChunk(id, index, content);
  await service.completeUpload(id, chunks.length);
  return id;
}
