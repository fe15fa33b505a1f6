/**
 * A Marketo source through the running platform: created with the API, synced
 * by the worker's job against the Marketo mock (Bulk Extract for the full load,
 * paging tokens for increments, the Company API for the companies leads name),
 * written to profiles and accounts through the ingestion path.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { startMarketoSourceMock, type MarketoSourceMock } from '../mocks/marketoSourceMock.js';
import { createSource, nextFinishedSync, PLATFORM_ENV, profileOf, readSource, syncNow } from './support.js';

const MUNCHKIN = '222-BBB-222';
const DAY = 86_400_000;
let platform: TestPlatform;
let marketo: MarketoSourceMock;

beforeAll(async () => {
  platform = await startTestPlatform({ worker: true, env: PLATFORM_ENV });
  marketo = await startMarketoSourceMock();
});
afterAll(async () => {
  await marketo?.close();
  await platform?.stop();
});

const key = (leadId: number) => `${leadId}@${MUNCHKIN}.Marketo`;

describe('a Marketo source', () => {
  it('loads everything with Bulk Extract, then follows changes with paging tokens, and stays within the API limits', { timeout: 180_000 }, async () => {
    const start = Date.now();
    // Leads created over 70 days: the full load needs three export windows of at most 31 days.
    const old = marketo.addLeads(20, new Date(start - 70 * DAY));
    const recent = marketo.addLeads(25, new Date(start - 5 * DAY));
    marketo.addActivities(recent[0]!, 4, new Date(start - 4 * DAY));
    marketo.addActivities(old[0]!, 3, new Date(start - 3 * DAY));

    const source = await createSource(platform, {
      type: 'MARKETO',
      name: 'Marketo production',
      config: { restUrl: marketo.restUrl, identityUrl: marketo.identityUrl, instanceId: MUNCHKIN, backfillFrom: new Date(start - 80 * DAY).toISOString() },
      credentials: { clientId: marketo.clientId, clientSecret: marketo.clientSecret },
    });
    expect(source).toMatchObject({ type: 'MARKETO', syncIntervalSeconds: 60, config: { instanceId: MUNCHKIN } });
    expect(JSON.stringify(source)).not.toContain(marketo.clientSecret);

    // Created sources sync at once: the first sync is a full load.
    const full = await nextFinishedSync(platform, source.id);
    expect(full).toMatchObject({ mode: 'FULL', status: 'SUCCEEDED', rowsRejected: 0, failure: null });
    const byEntity = Object.fromEntries(full.entities.map((entity) => [entity.entity, entity]));
    expect(byEntity.leads).toMatchObject({ rowsRead: 45, rowsWritten: 45 });
    // Every New Lead activity and the seven others.
    expect(byEntity.activities).toMatchObject({ rowsRead: 45 + 7, rowsWritten: 52 });
    expect(marketo.callsTo(/\/bulk\/v1\/leads\/export\/create\.json$/).length).toBe(3);

    const first = await profileOf(platform, key(old[0]!));
    expect(first).toMatchObject({ workEmail: String(marketo.state.leads.get(old[0]!)!.email) });
    expect(first.events.edges.map((edge: { node: { type: string } }) => edge.node.type)).toContain('lead.created');
    expect((await profileOf(platform, key(recent[0]!))).events.edges).toHaveLength(5);

    // Changes in Marketo: a lead edited, a new lead, new activities, a deleted lead.
    marketo.changeLead(old[1]!, { firstName: 'Renamed', title: 'Chief Revenue Officer' });
    const [added] = marketo.addLeads(1);
    marketo.addActivities(added!, 2);
    marketo.deleteLead(old[2]!);

    await syncNow(platform, source.id);
    const increment = await nextFinishedSync(platform, source.id, full.id);
    expect(increment).toMatchObject({ mode: 'INCREMENTAL', status: 'SUCCEEDED', rowsRejected: 0 });
    const changed = Object.fromEntries(increment.entities.map((entity) => [entity.entity, entity]));
    expect(changed.leads).toMatchObject({ rowsWritten: 2, rowsDeleted: 1 });
    // The change and the new lead (Change Data Value, New Lead) and the two activities.
    expect(changed.activities).toMatchObject({ rowsWritten: 4 });

    expect(await profileOf(platform, key(old[1]!))).toMatchObject({ firstName: 'Renamed', jobTitle: 'Chief Revenue Officer' });
    expect((await profileOf(platform, key(added!))).events.edges).toHaveLength(3);

    // A second increment with nothing new writes nothing.
    await syncNow(platform, source.id);
    const idle = await nextFinishedSync(platform, source.id, increment.id);
    expect(idle).toMatchObject({ mode: 'INCREMENTAL', status: 'SUCCEEDED', rowsRead: 0, rowsWritten: 0 });

    expect(marketo.state.refused).toMatchObject({ rate: 0, concurrency: 0, exportLimit: 0, range: 0, batch: 0 });
    expect(marketo.state.maxExportsProcessing).toBeLessThanOrEqual(2);
    expect((await readSource(platform, source.id)).failure).toBeNull();
  });
});

describe('Marketo companies', () => {
  const ACCOUNT = `query($key: String!) {
    accountBySourceKey(sourceKey: $key) { name domain industry employees people { isPrimary personKey } }
  }`;
  const accountOf = async (sourceKey: string) => {
    const response = await platform.query(ACCOUNT, { key: sourceKey }, { sandbox: 'companies' });
    expect(response.errors).toBeUndefined();
    return response.data.accountBySourceKey;
  };

  it('end up as accounts with their leads as people, and a lead moved to another company is linked to it', { timeout: 180_000 }, async () => {
    const munchkin = '333-CCC-333';
    await platform.keyFor('companies');
    // An instance of its own, so the other test's leads are not in this one's load.
    const instance = await startMarketoSourceMock();
    try {
      const [acme, globex] = instance.addCompanies(2, (n) => ({ company: n === 1 ? 'Acme' : 'Globex', website: n === 1 ? 'acme.example' : 'globex.example' }));
      const staff = instance.addLeads(3, new Date(Date.now() - 2 * DAY), (id) => ({ externalCompanyId: id % 3 === 0 ? globex! : acme! }));
      const loner = instance.addLeads(1, new Date(Date.now() - 2 * DAY))[0]!;
      const source = await platform.query(
        'mutation($input: CreateSourceInput!) { createSource(input: $input) { id } }',
        {
          input: {
            type: 'MARKETO',
            name: 'Marketo with companies',
            config: { restUrl: instance.restUrl, identityUrl: instance.identityUrl, instanceId: munchkin, backfillFrom: new Date(Date.now() - 3 * DAY).toISOString() },
            credentials: { clientId: instance.clientId, clientSecret: instance.clientSecret },
          },
        },
        { sandbox: 'companies' },
      );
      expect(source.errors).toBeUndefined();
      const id: string = source.data.createSource.id;
      const inSandbox = { ...platform, query: (q: string, v?: Record<string, unknown>) => platform.query(q, v, { sandbox: 'companies' }) } as TestPlatform;

      const full = await nextFinishedSync(inSandbox, id);
      expect(full).toMatchObject({ status: 'SUCCEEDED', rowsRejected: 0 });
      expect(full.entities.find((entity) => entity.entity === 'companies')).toMatchObject({ rowsRead: 2, rowsWritten: 2 });

      const worksAt = (company: string) => staff.filter((lead) => instance.state.leads.get(lead)!.externalCompanyId === company);
      const personKeys = (leads: number[]) => leads.map((lead) => `b2b_person:${lead}@${munchkin}.Marketo`).sort();
      const linked = async (company: string) =>
        ((await accountOf(`${company}@${munchkin}.Marketo`)).people as Array<{ personKey: string; isPrimary: boolean }>).filter((link) => link.isPrimary).map((link) => link.personKey).sort();
      expect(await accountOf(`${acme}@${munchkin}.Marketo`)).toMatchObject({ name: 'Acme', domain: 'acme.example', industry: 'Software' });
      expect(await linked(acme!)).toEqual(personKeys(worksAt(acme!)));
      expect(await linked(globex!)).toEqual(personKeys(worksAt(globex!)));
      for (const lead of worksAt(acme!)) expect((await profileOf(inSandbox, `${lead}@${munchkin}.Marketo`)).account).toMatchObject({ name: 'Acme' });
      expect((await profileOf(inSandbox, `${loner}@${munchkin}.Marketo`)).account).toBeNull();
      // Companies were asked for by externalCompanyId, within Marketo's limits.
      expect(instance.callsTo(/\/rest\/v1\/companies\.json$/).every((call) => !call.errorCode)).toBe(true);

      // In Marketo, a lead moves to Globex: the next increment reads the lead and its company.
      const mover = worksAt(acme!)[0]!;
      instance.changeLead(mover, { externalCompanyId: globex! });
      await syncNow(inSandbox, id);
      const increment = await nextFinishedSync(inSandbox, id, full.id);
      expect(increment).toMatchObject({ mode: 'INCREMENTAL', status: 'SUCCEEDED', rowsRejected: 0 });
      expect(await linked(globex!)).toContain(`b2b_person:${mover}@${munchkin}.Marketo`);
      // Its newest primary link wins: the profile's account is now Globex.
      expect((await profileOf(inSandbox, `${mover}@${munchkin}.Marketo`)).account).toMatchObject({ name: 'Globex' });
      expect(instance.state.refused).toMatchObject({ rate: 0, concurrency: 0, batch: 0 });
    } finally {
      await instance.close();
    }
  });
});
