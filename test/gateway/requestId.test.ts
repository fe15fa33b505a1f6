/**
 * Each request through the gateway has an id, the client's `x-request-id` or a
 * new one: answered back to the client and sent to every subgraph the request
 * calls, so the subgraphs' log lines of one request can be found together.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeSubgraphs } from '../../gateway/compose.js';
import { createApiKeyAuthenticator } from '../../gateway/authenticate.js';
import { startGateway, type RunningGateway } from '../../gateway/server.js';
import { generateApiKey } from '../../lib/auth/apiKeys.js';
import { createGatewayTokenSigner } from '../../lib/auth/gatewayToken.js';
import { silentLogger } from '../../lib/logger.js';
import { TINY_GATEWAY_SECRET, startTinySubgraphs, type TinySubgraph } from './support/tinySubgraphs.js';

let people: TinySubgraph;
let companies: TinySubgraph;
let gateway: RunningGateway;
const key = generateApiKey().key;

beforeAll(async () => {
  ({ people, companies } = await startTinySubgraphs());
  gateway = await startGateway({
    supergraphSdl: composeSubgraphs([people, companies]),
    port: 0,
    host: '127.0.0.1',
    logger: silentLogger,
    subgraphUrls: { people: people.url, companies: companies.url },
    authenticator: createApiKeyAuthenticator({
      lookup: async () => ({ sandbox: 'ids', role: 'viewer', keyId: 'k-ids' }),
      signer: createGatewayTokenSigner(TINY_GATEWAY_SECRET),
    }),
  });
});

afterAll(async () => {
  await gateway?.stop();
  await Promise.all([people?.stop(), companies?.stop()]);
});

async function post(headers: Record<string, string> = {}) {
  people.requestIds.length = 0;
  companies.requestIds.length = 0;
  const response = await fetch(gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...headers },
    body: JSON.stringify({ query: '{ person(id: "1") { name company { name } } }' }),
  });
  expect(response.status).toBe(200);
  await response.json();
  return response.headers.get('x-request-id');
}

describe('request ids', () => {
  it("sends the client's request id to every subgraph the request calls, and answers it", async () => {
    expect(await post({ 'x-request-id': 'client-chosen-1' })).toBe('client-chosen-1');
    expect(people.requestIds).toEqual(['client-chosen-1']);
    expect(companies.requestIds).toEqual(['client-chosen-1']);
  });

  it('makes a new id for each request that has none', async () => {
    const first = await post();
    expect(first).toMatch(/^[0-9a-f-]{36}$/);
    expect(people.requestIds).toEqual([first]);
    expect(companies.requestIds).toEqual([first]);
    const second = await post();
    expect(second).not.toBe(first);
  });
});
