/**
 * What segment evaluation reads through the profile and account view modules: `linkKeys` stored on
 * every people write (so account links join people in the pipeline), the bound on a person's
 * events, and one preferred-link order on the server and in memory.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { comparePreferredLinks, preferredLinkStages, type LinkView } from '../../../subgraphs/account/account.view.js';
import { PeopleRepository } from '../../../subgraphs/profile/people.repository.js';
import { findPeopleWithEvents } from '../../../subgraphs/profile/profile.view.js';
import type { ProfileRecord } from '../../../subgraphs/profile/profileView.js';
import { Data, NOW, daysAgo, openPipelineSuite, pipelineMembers, type PipelineSuite } from './support.js';

let suite: PipelineSuite;

beforeAll(async () => {
  suite = await openPipelineSuite('views');
}, 60_000);
afterAll(async () => {
  await suite.close();
});

function profile(id: string, fields: Partial<ProfileRecord> = {}): ProfileRecord {
  return { id, identities: [], identityKeys: [], sourceKeys: [], absorbedIds: [], consents: {}, createdAt: NOW, updatedAt: NOW, ...fields };
}

describe('people written by the repository', () => {
  it('store their link keys on every write, indexed, and read back without them', async () => {
    const people = new PeopleRepository(suite.db);
    await people.ensureIndexes();
    await people.save([profile('prof_1', { sourceKeys: ['1@a.Marketo'], absorbedIds: ['prof_0'] })]);
    const stored = await suite.db.collection('people').findOne({ _id: 'prof_1' as never });
    expect(stored?.linkKeys).toEqual(['id:prof_1', 'id:prof_0', 'b2b_person:1@a.Marketo']);
    const [read] = await people.findOwnIds(['prof_1']);
    expect(read).not.toHaveProperty('linkKeys');
    await people.save([{ ...read!, sourceKeys: ['1@a.Marketo', '2@b.Salesforce'] }]);
    expect((await suite.db.collection('people').findOne({ _id: 'prof_1' as never }))?.linkKeys).toContain('b2b_person:2@b.Salesforce');
    const indexes = await suite.db.collection('people').indexes();
    expect(indexes.map((index) => index.key)).toContainEqual({ linkKeys: 1 });

    // An account link under the new source key reaches the person in a pipeline.
    const data = new Data(suite.db);
    await data.account('acct_1', { industry: 'Software' });
    await data.link('rel_1', 'acct_1', 'b2b_person:2@b.Salesforce', { isPrimary: true });
    expect(await pipelineMembers(suite.db, 'account.industry = "Software"', 'PERSON')).toEqual(['prof_1']);
    expect(await pipelineMembers(suite.db, 'people.any(id = "prof_1")', 'ACCOUNT')).toEqual(['acct_1']);
  });

  it('written before link keys existed get them in one rewrite', async () => {
    await suite.db.collection('people').insertOne({ ...profile('legacy'), _id: 'legacy' as never, sourceKeys: ['9@z.Marketo'], version: 3 } as never);
    const people = new PeopleRepository(suite.db);
    expect(await people.addMissingLinkKeys()).toBe(1);
    expect(await people.addMissingLinkKeys()).toBe(0);
    const stored = await suite.db.collection('people').findOne({ _id: 'legacy' as never });
    expect(stored).toMatchObject({ linkKeys: ['id:legacy', 'b2b_person:9@z.Marketo'], version: 3 });
  });

  it('written before link keys existed get them when a process first prepares the collection', async () => {
    const db = suite.db.client.db(`${suite.db.databaseName}_legacy`);
    try {
      await db.collection('people').insertOne({ ...profile('old'), _id: 'old' as never, sourceKeys: ['7@z.Marketo'], version: 2 } as never);
      await new PeopleRepository(db).ensureIndexes();
      expect(await db.collection('people').findOne({ _id: 'old' as never })).toMatchObject({ linkKeys: ['id:old', 'b2b_person:7@z.Marketo'], version: 2 });
    } finally {
      await db.dropDatabase();
    }
  });
});

describe('the profile view', () => {
  it('bounds a person\'s events to the newest ones', async () => {
    const data = new Data(suite.db);
    await data.person('busy', {}, { identityKeys: ['Email:busy', 'ECID:busy'] });
    await data.event('old', 'Email:busy', 'email.open', daysAgo(9));
    await data.event('newer', 'ECID:busy', 'email.open', daysAgo(2));
    await data.event('newest', 'Email:busy', 'email.open', daysAgo(1));
    const [busy] = await findPeopleWithEvents(suite.db, ['busy'], { eventsPerPerson: 2 });
    expect(busy!.events.map((event) => event.id)).toEqual(['newest', 'newer']);
  });
});

describe('the account view', () => {
  it('orders preferred links the same way on the server and in memory', async () => {
    const links: LinkView[] = [
      { id: 'l3', targetId: 'a', personKey: 'k', isPrimary: false, role: null, updatedAt: daysAgo(1) },
      { id: 'l1', targetId: 'a', personKey: 'k', isPrimary: true, role: null, updatedAt: daysAgo(5) },
      { id: 'l4', targetId: 'a', personKey: 'k', isPrimary: false, role: null, updatedAt: null },
      { id: 'l2', targetId: 'a', personKey: 'k', isPrimary: true, role: null, updatedAt: daysAgo(5) },
      { id: 'l0', targetId: 'a', personKey: 'k', isPrimary: false, role: null, updatedAt: daysAgo(1) },
    ];
    const collection = suite.db.collection('linkOrder');
    await collection.insertMany(
      links.map(({ id, isPrimary, updatedAt }) => (updatedAt ? { _id: id, isPrimary, updatedAt } : { _id: id, isPrimary })) as never[],
    );
    const onServer = (await collection.aggregate(preferredLinkStages()).toArray()).map((doc) => String(doc._id));
    expect(onServer).toEqual(['l1', 'l2', 'l0', 'l3', 'l4']);
    expect([...links].sort(comparePreferredLinks).map((link) => link.id)).toEqual(onServer);
  });
});
