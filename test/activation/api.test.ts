/**
 * The activation API of the destination subgraph: what it refuses (with what to
 * fix), who may change activations, deactivation with and without taking the
 * members out, a destination that cannot be deleted while activated, and no
 * answer ever carrying credentials.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMarketoMock, type MarketoMock } from '../mocks/marketoMock.js';
import { postGraphQL } from '../subgraphs/support/graphql.js';
import { ACTIVATION_FIELDS, activationBox, activationOf, createDestination, type ActivationBox } from './support.js';

const ACTIVATE = `mutation ($input: ActivateSegmentInput!) { activateSegment(input: $input) { ${ACTIVATION_FIELDS} } }`;
const SECRET = 'client-secret';

let box: ActivationBox;
let marketo: MarketoMock;
let destinationId: string;
let segmentId: string;

beforeAll(async () => {
  box = await activationBox();
  marketo = await startMarketoMock({ clientSecret: SECRET });
  marketo.createList(7);
  destinationId = await createDestination(box, {
    type: 'MARKETO',
    name: 'Marketo',
    config: { restUrl: marketo.restUrl, identityUrl: marketo.identityUrl },
    credentials: { clientId: marketo.clientId, clientSecret: SECRET },
  });
  segmentId = await box.putSegment('api');
  await box.putPerson('m1', { email: 'm1@acme.example' });
  marketo.addLead({ email: 'm1@acme.example' });
  await box.enter(segmentId, ['m1']);
});
afterAll(async () => {
  await marketo?.close();
  await box?.stop();
});

async function refusal(input: Record<string, unknown>): Promise<{ code: unknown; message: string }> {
  const response = await box.post(ACTIVATE, { input });
  expect(response.data).toBeNull();
  return { code: response.errors?.[0]?.extensions?.code, message: response.errors?.[0]?.message ?? '' };
}

describe('activateSegment', () => {
  it('refuses bad schedules, mappings and options with what to fix, and unknown ids', async () => {
    const base = { destinationId, segmentId, schedule: 'STREAMING', options: { listId: 7 } };
    expect(await refusal({ ...base, schedule: 'hourly' })).toMatchObject({ code: 'BAD_USER_INPUT', message: expect.stringContaining('cron expression') });
    expect(await refusal({ ...base, schedule: '* * * * *' })).toMatchObject({ code: 'BAD_USER_INPUT', message: expect.stringContaining('STREAMING') });
    expect(await refusal({ ...base, mapping: { email: 'workEmial' } })).toMatchObject({ code: 'BAD_USER_INPUT', message: expect.stringContaining('"workEmial" is not a field') });
    expect(await refusal({ ...base, options: {} })).toMatchObject({ code: 'BAD_USER_INPUT', message: expect.stringContaining('options.listId') });
    expect(await refusal({ ...base, destinationId: 'dst_nope' })).toMatchObject({ code: 'NOT_FOUND' });
    expect(await refusal({ ...base, segmentId: 'seg_nope' })).toMatchObject({ code: 'NOT_FOUND' });
    const accounts = await box.putSegment('accounts', 'ACCOUNT');
    expect(await refusal({ ...base, segmentId: accounts })).toMatchObject({ code: 'BAD_USER_INPUT', message: expect.stringContaining('person audience') });
  });

  it('needs the admin role to activate, and lets any role read', async () => {
    const input = { destinationId, segmentId, schedule: 'STREAMING', options: { listId: 7 } };
    const editor = await postGraphQL(box.suite.url, ACTIVATE, { input }, { sandbox: box.sandbox, role: 'editor' });
    expect(editor.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const { activateSegment } = await box.gql(ACTIVATE, { input: { ...input, mapping: { firstName: 'firstName', company: 'account.name' } } });
    expect(activateSegment).toMatchObject({ status: 'ACTIVE', schedule: 'STREAMING', mapping: { firstName: 'firstName', company: 'account.name' }, backfilled: false, segment: { id: segmentId }, destination: { id: destinationId, type: 'MARKETO' } });
    const viewer = await postGraphQL(box.suite.url, `query ($s: ID!) { activations(segmentId: $s) { id } _entities(representations: [{ __typename: "Segment", id: $s }]) { ... on Segment { activations { id } } } }`, { s: segmentId }, { sandbox: box.sandbox, role: 'viewer' });
    expect(viewer.errors).toBeUndefined();
    expect(viewer.data?.activations).toContainEqual({ id: activateSegment.id });
    expect(viewer.data?._entities[0].activations).toContainEqual({ id: activateSegment.id });
  });

  it('never returns credentials, from any field', async () => {
    const { activateSegment } = await box.gql(ACTIVATE, { input: { destinationId, segmentId, schedule: 'STREAMING', options: { listId: 7 } } });
    await box.deliver(activateSegment.id);
    const everything = await box.post(`{ activations { ${ACTIVATION_FIELDS} deadLetters { nodes { memberId code message } } destination { config hasCredentials } } }`);
    expect(everything.errors).toBeUndefined();
    expect(JSON.stringify(everything)).not.toContain(SECRET);
  });
});

describe('deactivateSegment', () => {
  it('with removeMembers takes the members out of the list before the activation becomes INACTIVE; a destination in use is not deleted', async () => {
    const { activateSegment } = await box.gql(ACTIVATE, { input: { destinationId, segmentId, schedule: 'STREAMING', options: { listId: 7 } } });
    await box.deliver(activateSegment.id);
    expect(marketo.state.lists.get(7)!.size).toBe(1);
    const inUse = await box.post('mutation ($id: ID!) { deleteDestination(id: $id) }', { id: destinationId });
    expect(inUse.errors?.[0]?.extensions?.code).toBe('CONFLICT');

    const { deactivateSegment } = await box.gql('mutation ($id: ID!) { deactivateSegment(id: $id, removeMembers: true) { status } }', { id: activateSegment.id });
    expect(deactivateSegment.status).toBe('DEACTIVATING');
    await box.deliver(activateSegment.id);
    expect(marketo.state.lists.get(7)!.size).toBe(0);
    expect((await activationOf(box, activateSegment.id)).status).toBe('INACTIVE');
    const again = await box.post('mutation ($id: ID!) { deactivateSegment(id: $id) { status } }', { id: activateSegment.id });
    expect(again.errors?.[0]?.extensions?.code).toBe('CONFLICT');
  });

  it('without removeMembers stops at once and leaves the destination as it is', async () => {
    marketo.createList(8);
    const { activateSegment } = await box.gql(ACTIVATE, { input: { destinationId, segmentId, schedule: 'STREAMING', options: { listId: 8 } } });
    await box.deliver(activateSegment.id);
    const { deactivateSegment } = await box.gql('mutation ($id: ID!) { deactivateSegment(id: $id) { status } }', { id: activateSegment.id });
    expect(deactivateSegment.status).toBe('INACTIVE');
    await box.enter(segmentId, ['m1']);
    await box.deliver(activateSegment.id);
    expect(marketo.state.lists.get(8)!.size).toBe(1);
  });
});
