/**
 * A person audience delivered to a Marketo static list (the mock holds the
 * contract): the backfill on activation, changes from the event log, consent
 * exclusion, an outage then recovery, dead letters and their re-drive, and
 * drift repaired by reconcile.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startMarketoMock, type MarketoMock } from '../mocks/marketoMock.js';
import { activationBox, activationOf, createDestination, type ActivationBox } from './support.js';

let box: ActivationBox;
let marketo: MarketoMock;
let destinationId: string;
let listId = 500;

beforeAll(async () => {
  box = await activationBox();
  marketo = await startMarketoMock();
  destinationId = await createDestination(box, {
    type: 'MARKETO',
    name: 'Marketo',
    config: { restUrl: marketo.restUrl, identityUrl: marketo.identityUrl },
    credentials: { clientId: marketo.clientId, clientSecret: marketo.clientSecret },
  });
});
afterEach(() => {
  marketo.state.outage = false;
});
afterAll(async () => {
  await marketo?.close();
  await box?.stop();
});

/** Emails of the leads in a list. */
function listEmails(id: number): string[] {
  return [...(marketo.state.lists.get(id) ?? [])].map((leadId) => marketo.state.leads.get(leadId)!.email).sort();
}

async function audience(name: string, people: Array<{ id: string; email: string; consent?: 'y' | 'n'; lead?: boolean }>) {
  const segmentId = await box.putSegment(name);
  for (const person of people) {
    await box.putPerson(person.id, { email: person.email, consent: person.consent, firstName: person.id });
    if (person.lead !== false) marketo.addLead({ email: person.email });
  }
  const list = ++listId;
  marketo.createList(list);
  return { segmentId, list };
}

describe('activation to Marketo', () => {
  it('backfills the current members, skips people who refused marketing email (counted excluded), then follows changes', async () => {
    const { segmentId, list } = await audience('buyers', [
      { id: 'p1', email: 'ada@acme.example' },
      { id: 'p2', email: 'bob@acme.example' },
      { id: 'p3', email: 'cy@acme.example', consent: 'n' },
      { id: 'p4', email: 'dee@acme.example' },
    ]);
    await box.enter(segmentId, ['p1', 'p2', 'p3']);
    const activation = await box.activate({ destinationId, segmentId, schedule: 'STREAMING', mapping: { firstName: 'firstName' }, options: { listId: list } });

    const first = await box.deliver(activation.id);
    expect(first.counts).toEqual({ delivered: 2, removed: 0, failed: 0, excluded: 1 });
    expect(listEmails(list)).toEqual(['ada@acme.example', 'bob@acme.example']);
    expect((await activationOf(box, activation.id)).backfilled).toBe(true);

    await box.enter(segmentId, ['p4']);
    await box.exit(segmentId, ['p1']);
    const second = await box.deliver(activation.id);
    expect(second.counts).toEqual({ delivered: 1, removed: 1, failed: 0, excluded: 0 });
    expect(listEmails(list)).toEqual(['bob@acme.example', 'dee@acme.example']);

    const shown = await activationOf(box, activation.id);
    expect(shown).toMatchObject({ status: 'ACTIVE', totals: { delivered: 3, removed: 1, failed: 0, excluded: 1 }, lastRun: { delivered: 1, removed: 1 }, deadLetterCount: 0 });
  });

  it('rides out an outage: retryable failures wait with backoff and go through once Marketo is back, nothing lost', async () => {
    const { segmentId, list } = await audience('outage', [
      { id: 'o1', email: 'o1@acme.example' },
      { id: 'o2', email: 'o2@acme.example' },
      { id: 'o3', email: 'o3@acme.example' },
    ]);
    await box.enter(segmentId, ['o1']);
    const activation = await box.activate({ destinationId, segmentId, schedule: 'STREAMING', options: { listId: list } });
    await box.deliver(activation.id);

    marketo.state.outage = true;
    await box.enter(segmentId, ['o2', 'o3']);
    const during = await box.deliver(activation.id);
    expect(during.counts.failed).toBe(2);
    expect(await activationOf(box, activation.id)).toMatchObject({ pendingRetries: 2, deadLetterCount: 0 });
    // Two minutes of outage: the retries come due and fail again, still waiting.
    box.clock.advance(60_000);
    await box.deliver(activation.id);
    box.clock.advance(60_000);
    expect((await activationOf(box, activation.id)).pendingRetries).toBe(2);

    marketo.state.outage = false;
    box.clock.advance(5 * 60_000);
    const after = await box.deliver(activation.id);
    expect(after.counts.delivered).toBe(2);
    expect(listEmails(list)).toEqual(['o1@acme.example', 'o2@acme.example', 'o3@acme.example']);
    expect(await activationOf(box, activation.id)).toMatchObject({ pendingRetries: 0, deadLetterCount: 0 });
  });

  it('dead-letters what Marketo refuses for good, shows it, and re-drives it on demand', async () => {
    const { segmentId, list } = await audience('letters', [
      { id: 'd1', email: 'd1@acme.example' },
      { id: 'd2', email: 'nolead@acme.example', lead: false },
    ]);
    await box.enter(segmentId, ['d1', 'd2']);
    const activation = await box.activate({ destinationId, segmentId, schedule: 'STREAMING', options: { listId: list } });
    const result = await box.deliver(activation.id);
    expect(result.counts).toMatchObject({ delivered: 1, failed: 1 });

    const letters = await box.gql('query ($id: ID!) { activation(id: $id) { deadLetterCount deadLetters { totalCount nodes { memberId operation code retryable attempts } } } }', { id: activation.id });
    expect(letters.activation.deadLetters).toEqual({ totalCount: 1, nodes: [{ memberId: 'd2', operation: 'ADD', code: 'MARKETO_1004', retryable: false, attempts: 1 }] });

    // The lead is created in Marketo; the dead letter is sent again.
    marketo.addLead({ email: 'nolead@acme.example' });
    const redrive = await box.gql('mutation ($id: ID!) { redriveDeadLetters(activationId: $id) { redriven activation { id } } }', { id: activation.id });
    expect(redrive.redriveDeadLetters.redriven).toBe(1);
    expect((await box.deliver(activation.id)).counts.delivered).toBe(1);
    expect(listEmails(list)).toEqual(['d1@acme.example', 'nolead@acme.example']);
    expect(await activationOf(box, activation.id)).toMatchObject({ deadLetterCount: 0, pendingRetries: 0 });
  });

  it('dead-letters a change after the attempt limit while Marketo stays down, then re-drives it after recovery', async () => {
    const { segmentId, list } = await audience('limit', [{ id: 'l1', email: 'l1@acme.example' }]);
    const activation = await box.activate({ destinationId, segmentId, schedule: 'STREAMING', options: { listId: list } });
    await box.deliver(activation.id);
    marketo.state.outage = true;
    await box.enter(segmentId, ['l1']);
    for (let attempt = 0; attempt < 3; attempt++) {
      await box.deliver(activation.id);
      box.clock.advance(60 * 60_000);
    }
    const letters = (await box.gql('query ($id: ID!) { activation(id: $id) { pendingRetries deadLetters { nodes { memberId code retryable attempts } } } }', { id: activation.id })).activation;
    expect(letters).toEqual({ pendingRetries: 0, deadLetters: { nodes: [{ memberId: 'l1', code: 'MARKETO_HTTP_503', retryable: true, attempts: 3 }] } });
    marketo.state.outage = false;
    await box.gql('mutation ($id: ID!) { redriveDeadLetters(activationId: $id) { redriven } }', { id: activation.id });
    await box.deliver(activation.id);
    expect(listEmails(list)).toEqual(['l1@acme.example']);
  });

  it('reconcile reads the list back and repairs drift: missing members added, strangers and refusers removed', async () => {
    const { segmentId, list } = await audience('drift', [
      { id: 'r1', email: 'r1@acme.example' },
      { id: 'r2', email: 'r2@acme.example' },
      { id: 'r3', email: 'r3@acme.example', consent: 'n' },
    ]);
    await box.enter(segmentId, ['r1', 'r2', 'r3']);
    const activation = await box.activate({ destinationId, segmentId, schedule: 'STREAMING', options: { listId: list } });
    await box.deliver(activation.id);
    expect(listEmails(list)).toEqual(['r1@acme.example', 'r2@acme.example']);

    // Someone edits the list by hand: r2 taken out, a stranger and the person who refused put in.
    const members = marketo.state.lists.get(list)!;
    for (const [id, lead] of marketo.state.leads) {
      if (lead.email === 'r2@acme.example') members.delete(id);
      if (lead.email === 'r3@acme.example') members.add(id);
    }
    members.add(marketo.addLead({ email: 'stranger@else.example' }));

    const { reconcileActivation } = await box.gql('mutation ($id: ID!) { reconcileActivation(id: $id) { destinationCount expectedCount added removed failed unmatched runId } }', { id: activation.id });
    expect(reconcileActivation).toMatchObject({ destinationCount: 3, expectedCount: 2, added: 1, removed: 2, failed: 0, unmatched: 0 });
    expect(listEmails(list)).toEqual(['r1@acme.example', 'r2@acme.example']);
    const again = await box.gql('mutation ($id: ID!) { reconcileActivation(id: $id) { added removed runId } }', { id: activation.id });
    expect(again.reconcileActivation).toEqual({ added: 0, removed: 0, runId: null });
  });
});
