/**
 * Audiences delivered to LinkedIn (contact and company lists, the DMP segment
 * created on activation), to files (incremental while streaming, FULL on a
 * schedule, read back by reconcile) and to a webhook (an outage then recovery,
 * with every event delivered and none counted twice).
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Email } from '../../subgraphs/destination/connectors/linkedin/hashEmail.js';
import { startLinkedInMock, type LinkedInMock } from '../mocks/linkedinMock.js';
import { startWebhookReceiver, type WebhookReceiver } from '../mocks/webhookReceiver.js';
import { activationBox, activationOf, createDestination, type ActivationBox } from './support.js';

let box: ActivationBox;
let linkedin: LinkedInMock;
let webhook: WebhookReceiver;
let directory: string;

beforeAll(async () => {
  box = await activationBox();
  linkedin = await startLinkedInMock();
  webhook = await startWebhookReceiver({ secret: 'hook-secret', now: () => box.clock.millis() });
  directory = await mkdtemp(join(tmpdir(), 'cdp-activation-'));
});
afterAll(async () => {
  await linkedin?.close();
  await webhook?.close();
  await rm(directory, { recursive: true, force: true });
  await box?.stop();
});

describe('activation to LinkedIn', () => {
  it('creates the DMP segment once, then adds and removes hashed contacts', async () => {
    const destinationId = await createDestination(box, { type: 'LINKEDIN', name: 'LinkedIn', config: { apiUrl: linkedin.apiUrl, adAccount: linkedin.adAccount }, credentials: { accessToken: linkedin.accessToken } });
    const segmentId = await box.putSegment('li people');
    await box.putPerson('li1', { email: ' Ada@Acme.example ' });
    await box.putPerson('li2', { email: 'bob@acme.example', consent: 'n' });
    await box.putPerson('li3', { email: 'cy@acme.example' });
    await box.enter(segmentId, ['li1', 'li2']);
    const activation = await box.activate({ destinationId, segmentId, schedule: 'STREAMING' });
    const dmpSegmentId = String(activation.options.dmpSegmentId);
    expect(linkedin.state.segments.get(dmpSegmentId)).toMatchObject({ name: 'li people', type: 'USER' });

    expect((await box.deliver(activation.id)).counts).toEqual({ delivered: 1, removed: 0, failed: 0, excluded: 1 });
    expect([...linkedin.state.segments.get(dmpSegmentId)!.members]).toEqual([sha256Email('ada@acme.example')]);
    await box.enter(segmentId, ['li3']);
    await box.exit(segmentId, ['li1']);
    await box.deliver(activation.id);
    expect([...linkedin.state.segments.get(dmpSegmentId)!.members]).toEqual([sha256Email('cy@acme.example')]);
  });

  it('sends an account audience as a company list', async () => {
    const destinationId = await createDestination(box, { type: 'LINKEDIN', name: 'LinkedIn companies', config: { apiUrl: linkedin.apiUrl, adAccount: linkedin.adAccount }, credentials: { accessToken: linkedin.accessToken } });
    const segmentId = await box.putSegment('li accounts', 'ACCOUNT');
    await box.putAccount('a1', { name: 'Acme', domain: 'acme.example' });
    await box.enter(segmentId, ['a1']);
    const activation = await box.activate({ destinationId, segmentId, schedule: 'STREAMING' });
    await box.deliver(activation.id);
    const segment = linkedin.state.segments.get(String(activation.options.dmpSegmentId))!;
    expect(segment.type).toBe('COMPANY');
    expect(segment.members.size).toBe(1);
  });
});

describe('activation to files', () => {
  it('writes entries and exits as incremental files while streaming', async () => {
    const destinationId = await createDestination(box, { type: 'CLOUD_STORAGE', name: 'Files', config: { directory, format: 'CSV' } });
    const segmentId = await box.putSegment('files');
    await box.putPerson('f1', { email: 'f1@acme.example', firstName: 'Ann, "the first"' });
    await box.putPerson('f2', { email: 'f2@acme.example', consent: 'n' });
    await box.enter(segmentId, ['f1']);
    const activation = await box.activate({ destinationId, segmentId, schedule: 'STREAMING', mapping: { first_name: 'firstName' }, options: { mode: 'INCREMENTAL' } });
    await box.deliver(activation.id);
    await box.enter(segmentId, ['f2']);
    await box.exit(segmentId, ['f1']);
    await box.deliver(activation.id);
    const files = (await readdir(directory)).filter((name) => name.startsWith(activation.id)).sort();
    expect(files).toHaveLength(2);
    const contents = await Promise.all(files.map((name) => readFile(join(directory, name), 'utf8')));
    const change = contents.find((text) => text.includes('EXITED'))!;
    const backfill = contents.find((text) => text !== change)!;
    expect(backfill).toContain('f1,PERSON,REALIZED,y,f1@acme.example,,"Ann, ""the first"""');
    // Files carry the consent column instead of leaving people out.
    expect(change).toContain('f2,PERSON,REALIZED,n,f2@acme.example');
    expect(change).toContain('f1,PERSON,EXITED,y');
  });

  it('writes the whole audience on a schedule (FULL), and reconcile rewrites a damaged file set', async () => {
    const full = await mkdtemp(join(directory, 'full-'));
    const destinationId = await createDestination(box, { type: 'CLOUD_STORAGE', name: 'Full files', config: { directory: full, format: 'JSON' } });
    const segmentId = await box.putSegment('full');
    for (const id of ['g1', 'g2', 'g3']) await box.putPerson(id, { email: `${id}@acme.example` });
    await box.enter(segmentId, ['g1', 'g2', 'g3']);
    const refused = await box.post('mutation ($input: ActivateSegmentInput!) { activateSegment(input: $input) { id } }', { input: { destinationId, segmentId, schedule: 'STREAMING', options: { mode: 'FULL' } } });
    expect(refused.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const activation = await box.activate({ destinationId, segmentId, schedule: '0 6 * * *', options: { mode: 'FULL' } });
    await box.deliver(activation.id);
    const [name] = await readdir(full);
    const rows = (await readFile(join(full, name!), 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as { memberId: string; status: string });
    expect(rows.map((row) => [row.memberId, row.status])).toEqual([['g1', 'PRESENT'], ['g2', 'PRESENT'], ['g3', 'PRESENT']]);

    // The file is replaced by one that lost g2 and gained a stranger: reconcile writes the audience again.
    await writeFile(join(full, name!), `${JSON.stringify({ memberId: 'g1', status: 'PRESENT' })}\n${JSON.stringify({ memberId: 'x9', status: 'PRESENT' })}\n`);
    const { reconcileActivation } = await box.gql('mutation ($id: ID!) { reconcileActivation(id: $id) { destinationCount expectedCount added removed runId } }', { id: activation.id });
    expect(reconcileActivation).toMatchObject({ destinationCount: 2, expectedCount: 3, added: 2, removed: 1 });
    const repaired = (await readdir(full)).find((file) => file.includes(reconcileActivation.runId.replace(/[^A-Za-z0-9_-]/g, '-')))!;
    expect((await readFile(join(full, repaired), 'utf8')).trim().split('\n')).toHaveLength(3);
  });
});

describe('activation to a webhook', () => {
  it('delivers every change once through an outage: retried later, the receiver never counts one twice', async () => {
    const destinationId = await createDestination(box, { type: 'WEBHOOK', name: 'Hook', config: { url: webhook.url }, credentials: { signingSecret: 'hook-secret' } });
    const segmentId = await box.putSegment('hook');
    const ids = ['w1', 'w2', 'w3', 'w4'];
    for (const id of ids) await box.putPerson(id, { email: `${id}@acme.example`, consent: id === 'w4' ? 'n' : 'y' });
    await box.enter(segmentId, ['w1']);
    const activation = await box.activate({ destinationId, segmentId, schedule: 'STREAMING', mapping: { email: 'identities.email' } });
    await box.deliver(activation.id);

    // The receiver fails every attempt the connector makes (4) twice over: two minutes of outage.
    webhook.failNext(503, 8);
    await box.enter(segmentId, ['w2', 'w3', 'w4']);
    await box.exit(segmentId, ['w1']);
    expect((await box.deliver(activation.id)).counts).toMatchObject({ failed: 3, excluded: 1 });
    box.clock.advance(60_000);
    await box.deliver(activation.id);
    box.clock.advance(60_000);
    expect((await activationOf(box, activation.id)).pendingRetries).toBe(3);
    box.clock.advance(10 * 60_000);
    await box.deliver(activation.id);

    const events = webhook.uniqueEvents().map((event) => `${String(event.type)}:${String(event.memberId)}`);
    expect(events.sort()).toEqual(['segment.entered:w1', 'segment.entered:w2', 'segment.entered:w3', 'segment.exited:w1']);
    const ids_ = webhook.uniqueEvents().map((event) => event.id);
    expect(new Set(ids_).size).toBe(ids_.length);
    expect(await activationOf(box, activation.id)).toMatchObject({ pendingRetries: 0, deadLetterCount: 0, totals: { delivered: 3, removed: 1, excluded: 1 } });
  });
});
