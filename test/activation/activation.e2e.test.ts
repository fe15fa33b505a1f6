/**
 * Activation end to end, through the gateway with a worker: people ingested with
 * the mutations, a segment evaluated, the audience activated to a Marketo list,
 * a LinkedIn contact list, files and a webhook (all mocks); the backfill reaches
 * each of them, then an audience change does, within seconds, with the person
 * who refused marketing email left out (files carry the consent column). The
 * segment cannot be deleted while activated, and `Segment.activations` is
 * answered across subgraphs.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Email } from '../../subgraphs/destination/connectors/linkedin/hashEmail.js';
import { startLinkedInMock, type LinkedInMock } from '../mocks/linkedinMock.js';
import { startMarketoMock, type MarketoMock } from '../mocks/marketoMock.js';
import { startWebhookReceiver, type WebhookReceiver } from '../mocks/webhookReceiver.js';
import { uniqueName } from '../support/mongo.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';

const ORG = '00D5e000001XyZ';
const sk = (id: string) => `${id}@${ORG}.Salesforce`;

let platform: TestPlatform;
let marketo: MarketoMock;
let linkedin: LinkedInMock;
let webhook: WebhookReceiver;
let directory: string;
const sandbox = uniqueName('actv-');

async function run(query: string, variables: Record<string, unknown> = {}) {
  const result = await platform.query(query, variables, { sandbox });
  expect(result.errors).toBeUndefined();
  return result.data;
}

async function evaluate(): Promise<void> {
  const { evaluateSegments } = await run('mutation { evaluateSegments { id } }');
  await expect
    .poll(async () => (await run('query ($id: ID!) { evaluationRun(id: $id) { status } }', { id: evaluateSegments.id })).evaluationRun.status, { timeout: 60_000, interval: 200 })
    .toBe('SUCCEEDED');
}

async function upsertPeople(people: Array<Record<string, unknown>>): Promise<void> {
  await run('mutation ($p: [PersonInput!]!) { upsertPeople(people: $p) { status } }', { p: people });
}

const listEmails = () => [...(marketo.state.lists.get(42) ?? [])].map((id) => marketo.state.leads.get(id)!.email).sort();
const linkedinMembers = (segmentId: string) => [...(linkedin.state.segments.get(segmentId)?.members ?? [])].sort();
const webhookEntries = () => webhook.uniqueEvents().filter((event) => event.type === 'segment.entered').map((event) => (event.identities as { email?: string } | undefined)?.email).sort();
async function fileRows(): Promise<string> {
  const names = (await readdir(directory)).filter((name) => name.endsWith('.csv'));
  return (await Promise.all(names.map((name) => readFile(join(directory, name), 'utf8')))).join('\n');
}

beforeAll(async () => {
  platform = await startTestPlatform({ worker: true });
  marketo = await startMarketoMock();
  marketo.createList(42);
  for (const email of ['ada@acme.example', 'bob@acme.example', 'cy@acme.example']) marketo.addLead({ email });
  linkedin = await startLinkedInMock();
  webhook = await startWebhookReceiver({ secret: 'e2e-secret' });
  directory = await mkdtemp(join(tmpdir(), 'cdp-e2e-activation-'));
});
afterAll(async () => {
  await platform?.stop();
  await Promise.all([marketo?.close(), linkedin?.close(), webhook?.close()]);
  if (directory) await rm(directory, { recursive: true, force: true });
});

describe('activation through the running platform', { timeout: 180_000 }, () => {
  it('delivers the audience and then its changes to every destination, started through the gateway', async () => {
    await upsertPeople([
      { sourceKey: sk('ada'), firstName: 'Ada', workEmail: 'ada@acme.example', leadScore: 80, consents: { marketingEmail: 'y' } },
      { sourceKey: sk('bob'), firstName: 'Bob', workEmail: 'bob@acme.example', leadScore: 90, consents: { marketingEmail: 'n' } },
      { sourceKey: sk('cy'), firstName: 'Cy', workEmail: 'cy@acme.example', leadScore: 10, consents: { marketingEmail: 'y' } },
    ]);
    const { createSegment } = await run('mutation { createSegment(input: { name: "Hot leads", targetEntity: PERSON, expression: "leadScore >= 50" }) { id } }');
    const segmentId: string = createSegment.id;
    await evaluate();

    const destinations: Array<[string, Record<string, unknown>, Record<string, unknown>]> = [
      ['MARKETO', { config: { restUrl: marketo.restUrl, identityUrl: marketo.identityUrl }, credentials: { clientId: marketo.clientId, clientSecret: marketo.clientSecret } }, { listId: 42 }],
      ['LINKEDIN', { config: { apiUrl: linkedin.apiUrl, adAccount: linkedin.adAccount }, credentials: { accessToken: linkedin.accessToken } }, {}],
      ['CLOUD_STORAGE', { config: { directory, format: 'CSV' } }, { mode: 'INCREMENTAL' }],
      ['WEBHOOK', { config: { url: webhook.url }, credentials: { signingSecret: 'e2e-secret' } }, {}],
    ];
    let dmpSegmentId = '';
    for (const [type, destination, options] of destinations) {
      const { createDestination } = await run('mutation ($input: CreateDestinationInput!) { createDestination(input: $input) { id } }', { input: { type, name: type, ...destination } });
      const { activateSegment } = await run('mutation ($input: ActivateSegmentInput!) { activateSegment(input: $input) { id status options } }', {
        input: { destinationId: createDestination.id, segmentId, schedule: 'STREAMING', mapping: { email: 'workEmail', firstName: 'firstName' }, options },
      });
      expect(activateSegment.status).toBe('ACTIVE');
      if (type === 'LINKEDIN') dmpSegmentId = String(activateSegment.options.dmpSegmentId);
    }

    // A scheduled activation: FULL files on a cron, whose first run (the backfill) the worker's Agenda job makes at once.
    const full = await mkdtemp(join(directory, 'full-'));
    const { createDestination: fullFiles } = await run('mutation ($input: CreateDestinationInput!) { createDestination(input: $input) { id } }', { input: { type: 'CLOUD_STORAGE', name: 'Nightly files', config: { directory: full, format: 'CSV' } } });
    await run('mutation ($input: ActivateSegmentInput!) { activateSegment(input: $input) { id } }', { input: { destinationId: fullFiles.id, segmentId, schedule: '0 6 * * *', options: { mode: 'FULL' } } });
    const fullRows = async () => (await Promise.all((await readdir(full)).map((name) => readFile(join(full, name), 'utf8')))).join('');
    await expect.poll(fullRows, { timeout: 60_000, interval: 200 }).toMatch(/PRESENT,y,ada@acme\.example[\s\S]*PRESENT,n,bob@acme\.example|PRESENT,n,bob@acme\.example[\s\S]*PRESENT,y,ada@acme\.example/);

    // The backfill: Ada everywhere; Bob (consent "n") only in the file, with his consent column.
    await expect.poll(listEmails, { timeout: 60_000, interval: 200 }).toEqual(['ada@acme.example']);
    await expect.poll(() => linkedinMembers(dmpSegmentId), { timeout: 30_000, interval: 200 }).toEqual([sha256Email('ada@acme.example')]);
    await expect.poll(webhookEntries, { timeout: 30_000, interval: 200 }).toEqual(['ada@acme.example']);
    await expect.poll(fileRows, { timeout: 30_000, interval: 200 }).toMatch(/REALIZED,n,bob@acme\.example/);

    const refused = await platform.query('mutation ($id: ID!) { deleteSegment(id: $id) }', { id: segmentId }, { sandbox });
    expect(refused.errors?.[0]?.extensions?.code).toBe('CONFLICT');

    // An audience change: Cy's score rises, the segment is evaluated, and Cy reaches every destination.
    await upsertPeople([{ sourceKey: sk('cy'), leadScore: 75 }]);
    await evaluate();
    await expect.poll(listEmails, { timeout: 30_000, interval: 200 }).toEqual(['ada@acme.example', 'cy@acme.example']);
    await expect.poll(() => linkedinMembers(dmpSegmentId), { timeout: 30_000, interval: 200 }).toEqual([sha256Email('ada@acme.example'), sha256Email('cy@acme.example')].sort());
    await expect.poll(webhookEntries, { timeout: 30_000, interval: 200 }).toEqual(['ada@acme.example', 'cy@acme.example']);
    await expect.poll(fileRows, { timeout: 30_000, interval: 200 }).toMatch(/REALIZED,y,cy@acme\.example/);

    const { segment } = await run('query ($id: ID!) { segment(id: $id) { name activations { status destination { type } totals { delivered excluded } } } }', { id: segmentId });
    expect(segment.name).toBe('Hot leads');
    expect(segment.activations.map((a: { destination: { type: string } }) => a.destination.type).sort()).toEqual(['CLOUD_STORAGE', 'CLOUD_STORAGE', 'LINKEDIN', 'MARKETO', 'WEBHOOK']);
    const marketoActivation = segment.activations.find((a: { destination: { type: string } }) => a.destination.type === 'MARKETO');
    expect(marketoActivation.totals).toEqual({ delivered: 2, excluded: 1 });
  });
});
