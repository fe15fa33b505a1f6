import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDestinationSubgraph } from '../../subgraphs/destination/server.js';
import { startLinkedInMock, type LinkedInMock } from '../mocks/linkedinMock.js';
import { startMarketoMock, type MarketoMock } from '../mocks/marketoMock.js';
import { startWebhookReceiver, type WebhookReceiver } from '../mocks/webhookReceiver.js';
import { gql, postGraphQL } from '../subgraphs/support/graphql.js';
import { startSubgraphSuite, type SubgraphSuite } from '../subgraphs/support/subgraphSuite.js';

const CREATE = `mutation($input: CreateDestinationInput!) { createDestination(input: $input) { id } }`;
const TEST = `mutation($id: ID!) { testConnection(id: $id) { ok code message } }`;

describe('testConnection on the destination subgraph', () => {
  let suite: SubgraphSuite;
  let marketo: MarketoMock;
  let linkedin: LinkedInMock;
  let webhook: WebhookReceiver;
  let directory: string;
  const sandbox = 'connections';

  async function create(input: Record<string, unknown>): Promise<string> {
    return (await gql(suite.url, CREATE, { input: { name: String(input.type), ...input } }, { sandbox })).createDestination.id;
  }
  async function test(id: string) {
    return (await gql(suite.url, TEST, { id }, { sandbox })).testConnection;
  }

  beforeAll(async () => {
    suite = await startSubgraphSuite(startDestinationSubgraph);
    marketo = await startMarketoMock();
    linkedin = await startLinkedInMock();
    webhook = await startWebhookReceiver({ secret: 'hook-secret' });
    directory = await mkdtemp(join(tmpdir(), 'cdp-conn-'));
  });
  afterAll(async () => {
    await Promise.all([suite?.stop(), marketo?.close(), linkedin?.close(), webhook?.close()]);
    await rm(directory, { recursive: true, force: true });
  });

  it('authenticates each kind of destination with its stored credentials and answers ok', async () => {
    // The mocks are shared with the other tests of this file: only what this test sends counts.
    const seen = { marketo: marketo.state.calls.length, linkedin: linkedin.state.requests.length, webhook: webhook.state.deliveries.length };
    const ids = [
      await create({ type: 'MARKETO', config: { restUrl: marketo.restUrl, identityUrl: marketo.identityUrl }, credentials: { clientId: marketo.clientId, clientSecret: marketo.clientSecret } }),
      await create({ type: 'LINKEDIN', config: { apiUrl: linkedin.apiUrl, adAccount: linkedin.adAccount }, credentials: { accessToken: linkedin.accessToken } }),
      await create({ type: 'WEBHOOK', config: { url: `${webhook.url}/in` }, credentials: { signingSecret: 'hook-secret' } }),
      await create({ type: 'CLOUD_STORAGE', config: { directory, format: 'CSV' } }),
    ];
    for (const id of ids) expect(await test(id)).toEqual({ ok: true, code: null, message: null });
    // Nothing was sent: no lead, list or segment touched, and the webhook got an empty ping.
    expect(marketo.state.calls.slice(seen.marketo).map((call) => `${call.method} ${call.path}`)).toEqual(['GET /v1/lists.json']);
    expect(linkedin.state.requests.slice(seen.linkedin).map((r) => `${r.method} ${r.path}`)).toEqual([`GET /rest/adAccounts/${linkedin.adAccount}`]);
    expect(webhook.state.deliveries.slice(seen.webhook).map((d) => d.events)).toEqual([[]]);
  });

  it("answers the destination's refusal with its code: bad credentials, missing credentials, unreachable, unsupported", async () => {
    const badMarketo = await create({ type: 'MARKETO', config: { restUrl: marketo.restUrl, identityUrl: marketo.identityUrl }, credentials: { clientId: 'x', clientSecret: 'y' } });
    expect(await test(badMarketo)).toEqual({ ok: false, code: 'MARKETO_UNAUTHORIZED', message: 'Bad client credentials' });

    const badLinkedIn = await create({ type: 'LINKEDIN', config: { apiUrl: linkedin.apiUrl, adAccount: linkedin.adAccount }, credentials: { accessToken: 'revoked' } });
    expect(await test(badLinkedIn)).toMatchObject({ ok: false, code: 'LINKEDIN_INVALID_ACCESS_TOKEN' });

    const badHook = await create({ type: 'WEBHOOK', config: { url: `${webhook.url}/in` }, credentials: { signingSecret: 'guess' } });
    expect(await test(badHook)).toMatchObject({ ok: false, code: 'WEBHOOK_HTTP_401' });

    const noCredentials = await create({ type: 'MARKETO', config: { restUrl: marketo.restUrl, identityUrl: marketo.identityUrl } });
    expect(await test(noCredentials)).toMatchObject({ ok: false, code: 'MISSING_CREDENTIALS', message: expect.stringContaining('credentials.clientId') });

    const unreachable = await create({ type: 'WEBHOOK', config: { url: 'http://127.0.0.1:9/in' }, credentials: { signingSecret: 's' } });
    expect(await test(unreachable)).toMatchObject({ ok: false, code: 'NETWORK_ERROR' });

    const bucket = await create({ type: 'CLOUD_STORAGE', config: { bucket: 'audiences' } });
    expect(await test(bucket)).toMatchObject({ ok: false, code: 'BUCKET_NOT_SUPPORTED' });
  });

  it('needs the admin role and an existing destination', async () => {
    const id = await create({ type: 'CLOUD_STORAGE', config: { directory } });
    const asEditor = await postGraphQL(suite.url, TEST, { id }, { sandbox, role: 'editor' });
    expect(asEditor.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const missing = await postGraphQL(suite.url, TEST, { id: 'dst_missing' }, { sandbox });
    expect(missing.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    // Another sandbox cannot test this sandbox's destination.
    const elsewhere = await postGraphQL(suite.url, TEST, { id }, { sandbox: 'someone-else' });
    expect(elsewhere.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
});
