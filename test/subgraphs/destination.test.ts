import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCredentialsVault, type SealedCredentials } from '../../lib/crypto/credentialsVault.js';
import { startDestinationSubgraph } from '../../subgraphs/destination/server.js';
import { gql, postGraphQL } from './support/graphql.js';
import { randomSecurity, TEST_SECURITY } from './support/security.js';
import { startSubgraphSuite, type SubgraphSuite } from './support/subgraphSuite.js';

const FIELDS = 'id type name config hasCredentials credentialsUpdatedAt createdAt updatedAt';
const CREATE = `mutation($input: CreateDestinationInput!) { createDestination(input: $input) { ${FIELDS} } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateDestinationInput!) { updateDestination(id: $id, input: $input) { ${FIELDS} } }`;
const DELETE = `mutation($id: ID!) { deleteDestination(id: $id) }`;
const GET = `query($id: ID!) { destination(id: $id) { ${FIELDS} } }`;

const SECRET = 'sup3r-s3cret-value';

describe('destination subgraph', () => {
  let suite: SubgraphSuite;

  beforeAll(async () => {
    suite = await startSubgraphSuite(startDestinationSubgraph);
  });
  afterAll(async () => {
    await suite?.stop();
  });

  it('creates, reads, updates, lists and deletes destinations', async () => {
    const sandbox = 'crud';
    const { createDestination } = await gql(
      suite.url,
      CREATE,
      {
        input: {
          type: 'MARKETO',
          name: ' Marketo EMEA ',
          config: { endpoint: 'https://123-ABC-456.mktorest.com', listIds: [1, 2], nested: { lookupField: 'email' } },
          credentials: { clientId: 'abc', clientSecret: SECRET },
        },
      },
      { sandbox },
    );
    expect(createDestination).toMatchObject({
      type: 'MARKETO',
      name: 'Marketo EMEA',
      config: { endpoint: 'https://123-ABC-456.mktorest.com', listIds: [1, 2], nested: { lookupField: 'email' } },
      hasCredentials: true,
    });
    expect(createDestination.id).toMatch(/^dst_/);
    expect((await gql(suite.url, GET, { id: createDestination.id }, { sandbox })).destination).toEqual(createDestination);

    const renamed = await gql(suite.url, UPDATE, { id: createDestination.id, input: { name: 'Marketo' } }, { sandbox });
    expect(renamed.updateDestination).toMatchObject({ name: 'Marketo', hasCredentials: true, config: createDestination.config });

    const cleared = await gql(suite.url, UPDATE, { id: createDestination.id, input: { credentials: null, config: { endpoint: 'https://x.example' } } }, { sandbox });
    expect(cleared.updateDestination).toMatchObject({ hasCredentials: false, credentialsUpdatedAt: null, config: { endpoint: 'https://x.example' } });

    await gql(suite.url, CREATE, { input: { type: 'WEBHOOK', name: 'Hook', config: { url: 'https://hooks.example/in' } } }, { sandbox });
    const all = await gql(suite.url, `{ destinations { name type } }`, {}, { sandbox });
    expect(all.destinations).toEqual([
      { name: 'Marketo', type: 'MARKETO' },
      { name: 'Hook', type: 'WEBHOOK' },
    ]);
    const hooks = await gql(suite.url, `{ destinations(type: WEBHOOK) { name } }`, {}, { sandbox });
    expect(hooks.destinations).toEqual([{ name: 'Hook' }]);

    expect((await gql(suite.url, DELETE, { id: createDestination.id }, { sandbox })).deleteDestination).toBe(createDestination.id);
    expect((await gql(suite.url, GET, { id: createDestination.id }, { sandbox })).destination).toBeNull();
    expect((await postGraphQL(suite.url, DELETE, { id: createDestination.id }, { sandbox })).errors?.[0].extensions?.code).toBe('NOT_FOUND');
  });

  it('stores credentials but never returns them, from any field or query', async () => {
    const sandbox = 'secrets';
    const { createDestination } = await gql(
      suite.url,
      CREATE,
      { input: { type: 'LINKEDIN', name: 'LinkedIn', config: { adAccountId: '123' }, credentials: { accessToken: SECRET } } },
      { sandbox },
    );
    const responses = await Promise.all([
      postGraphQL(suite.url, GET, { id: createDestination.id }, { sandbox }),
      postGraphQL(suite.url, `{ destinations { ${FIELDS} } }`, {}, { sandbox }),
      postGraphQL(
        suite.url,
        `query($r: [_Any!]!) { _entities(representations: $r) { ... on Destination { ${FIELDS} } } }`,
        { r: [{ __typename: 'Destination', id: createDestination.id }] },
        { sandbox },
      ),
      postGraphQL(suite.url, UPDATE, { id: createDestination.id, input: { name: 'LinkedIn 2' } }, { sandbox }),
    ]);
    for (const response of responses) {
      expect(response.errors).toBeUndefined();
      expect(JSON.stringify(response)).not.toContain(SECRET);
    }
    expect(responses[0].data?.destination.hasCredentials).toBe(true);
    // No field to ask for them.
    const asked = await postGraphQL(suite.url, `query($id: ID!) { destination(id: $id) { credentials } }`, { id: createDestination.id }, { sandbox });
    expect(asked.errors?.[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('encrypts credentials at rest: the stored document holds no plaintext, and opens with the key', async () => {
    const sandbox = 'at-rest';
    const credentials = { clientId: 'client-id-in-plain-sight', clientSecret: SECRET, nested: { refreshToken: 'r3fresh-t0ken' } };
    const { createDestination } = await gql(suite.url, CREATE, { input: { type: 'MARKETO', name: 'Marketo', credentials } }, { sandbox });
    const collection = suite.databases.sandbox(sandbox).collection<{ _id: string; credentials: SealedCredentials | null }>('destinations');
    const stored = await collection.findOne({ _id: createDestination.id });
    const raw = JSON.stringify(stored);
    for (const value of [SECRET, 'client-id-in-plain-sight', 'r3fresh-t0ken', 'clientSecret', 'refreshToken']) {
      expect(raw).not.toContain(value);
    }
    expect(stored?.credentials).toMatchObject({ scheme: 'aes-256-gcm', sealed: expect.stringMatching(/^v1:/) });
    // The connectors' view: it opens with the deployment's key, and with no other.
    expect(createCredentialsVault(TEST_SECURITY.encryptionKey).open(stored!.credentials!)).toEqual(credentials);
    expect(() => createCredentialsVault(randomSecurity().encryptionKey).open(stored!.credentials!)).toThrow();

    // A replacement is sealed afresh: same plaintext, different ciphertext.
    await gql(suite.url, UPDATE, { id: createDestination.id, input: { credentials } }, { sandbox });
    const replaced = await collection.findOne({ _id: createDestination.id });
    expect(replaced?.credentials?.sealed).not.toBe(stored?.credentials?.sealed);
    expect(JSON.stringify(replaced)).not.toContain(SECRET);
    expect(createCredentialsVault(TEST_SECURITY.encryptionKey).open(replaced!.credentials!)).toEqual(credentials);
  });

  it('refuses to start with an encryption key that is not 32 bytes', async () => {
    await expect(
      startDestinationSubgraph({ databases: suite.databases, port: 0, security: { ...TEST_SECURITY, encryptionKey: 'too-short' } }),
    ).rejects.toThrow(/32 bytes/);
  });

  it('rejects unsafe or invalid config with messages that say what to fix', async () => {
    const sandbox = 'invalid';
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ type: 'MARKETO', name: 'x', config: { $where: 'sleep(1000)' } }, /must not start with "\$"/],
      [{ type: 'MARKETO', name: 'x', config: { 'a.b': 1 } }, /contain "\."/],
      [{ type: 'MARKETO', name: 'x', config: { nested: { $gt: 1 } } }, /\$gt/],
      [{ type: 'MARKETO', name: 'x', config: [1, 2] }, /must be an object/],
      [{ type: 'MARKETO', name: 'x', config: { clientSecret: SECRET } }, /send secrets in credentials/],
      [{ type: 'CLOUD_STORAGE', name: 'x', config: { bucket: 'b', secretAccessKey: SECRET } }, /send secrets in credentials/],
      [{ type: 'WEBHOOK', name: 'x', config: { url: 'https://h.example', headers: { Authorization: `Bearer ${SECRET}` } } }, /send secrets in credentials/],
      [{ type: 'WEBHOOK', name: 'x', config: { url: 'ftp://nope' } }, /config\.url/],
      [{ type: 'WEBHOOK', name: 'x', config: { url: `https://user:${SECRET}@h.example/hook` } }, /user or password/],
      [{ type: 'WEBHOOK', name: 'x', config: { url: 'http://169.254.169.254/latest/meta-data' } }, /link-local/],
      [{ type: 'WEBHOOK', name: ' ', config: { url: 'https://ok.example' } }, /name is required/],
      [{ type: 'SFTP', name: 'x' }, /SFTP/],
    ];
    for (const [input, message] of cases) {
      const response = await postGraphQL(suite.url, CREATE, { input }, { sandbox });
      expect(response.errors?.[0].extensions?.code, JSON.stringify(input)).toBe('BAD_USER_INPUT');
      expect(response.errors?.[0].message).toMatch(message);
      expect(JSON.stringify(response)).not.toContain(SECRET);
    }
    // Literal (inline) JSON goes through the same checks.
    const literal = await postGraphQL(suite.url, `mutation { createDestination(input: { type: MARKETO, name: "x", config: "text" }) { id } }`, {}, { sandbox });
    expect(literal.errors?.[0].message).toMatch(/JSON value must be an object/);
    expect(await suite.databases.sandbox(sandbox).collection('destinations').countDocuments()).toBe(0);
  });
});
