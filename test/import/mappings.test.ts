import { describe, expect, it } from 'vitest';
import {
  createRowMapper,
  findMapping,
  mappingOverrideProblems,
  missingColumnsProblem,
  resolveColumns,
  RowError,
  type MappingContext,
} from '../../subgraphs/profile/imports/mappings/index.js';
import type { SourceName } from '../../subgraphs/profile/imports/sources.js';
import {
  MARKETO_ACTIVITY_COLUMNS,
  MARKETO_COMPANY_COLUMNS,
  MARKETO_LEAD_COLUMNS,
  MUNCHKIN,
  ORG,
  SALESFORCE_ACCOUNT_COLUMNS,
  SALESFORCE_CONTACT_COLUMNS,
  SALESFORCE_CONTACT_ROLE_COLUMNS,
  SALESFORCE_OPPORTUNITY_COLUMNS,
  marketoActivity,
  marketoCompany,
  marketoLead,
  salesforceAccount,
  salesforceContact,
  salesforceContactRole,
  salesforceOpportunity,
  sfId,
  type Row,
} from '../../lib/fixtures/exportFiles.js';

const asStrings = (row: Row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v === undefined ? '' : String(v)]));

function mapOne(source: SourceName, entity: string, header: readonly string[], row: Row, context: MappingContext, override = {}) {
  const mapping = findMapping(source, entity);
  const columns = resolveColumns(mapping, header, override);
  return createRowMapper(mapping, columns, context)(asStrings(row));
}

const marketo = { instance: MUNCHKIN };
const salesforce = { instance: ORG };

describe('Marketo leads', () => {
  it('map to a person keyed by lead id and Munchkin id, with consent from unsubscribed', () => {
    const { main, related } = mapOne('marketo', 'leads', MARKETO_LEAD_COLUMNS, marketoLead(7, { email: ' Ada@Example.COM ', unsubscribed: 'true' }), marketo);
    expect(main).toEqual({
      kind: 'people',
      input: {
        sourceKey: `1007@${MUNCHKIN}.Marketo`,
        workEmail: 'ada@example.com',
        firstName: 'First7',
        lastName: 'Last7',
        jobTitle: 'Engineer',
        phone: '+1 555 0000007',
        country: 'DE',
        leadScore: 7,
        leadStatus: 'Open',
        consents: { marketingEmail: 'n' },
        attributes: { company: 'Company 7' },
        sourceUpdatedAt: '2026-01-15T10:00:00.000Z',
      },
    });
    expect(related).toEqual([]);
    const subscribed = mapOne('marketo', 'leads', MARKETO_LEAD_COLUMNS, marketoLead(8, { unsubscribed: 'false' }), marketo);
    expect(subscribed.main.input).toMatchObject({ consents: { marketingEmail: 'y' } });
  });

  it('with crmInstance, carry the Salesforce contact and lead as identities and link the Salesforce account', () => {
    const row = marketoLead(1, { sfdcContactId: '0035e00000AAAAA', sfdcLeadId: '00Q5e00000BBBBB', sfdcAccountId: '0015e00000CCCCC' });
    const { main, related } = mapOne('marketo', 'leads', MARKETO_LEAD_COLUMNS, row, { ...marketo, crmInstance: ORG });
    expect(main.input).toMatchObject({
      identities: [
        { namespace: 'b2b_person', value: `0035e00000AAAAA@${ORG}.Salesforce` },
        { namespace: 'b2b_person', value: `00Q5e00000BBBBB@${ORG}.Salesforce` },
      ],
    });
    expect(related).toEqual([
      { kind: 'accountLinks', input: { personSourceKey: `1001@${MUNCHKIN}.Marketo`, accountSourceKey: `0015e00000CCCCC@${ORG}.Salesforce`, isPrimary: true } },
    ]);
    // Without the CRM's org id the sfdc ids cannot be keyed, so they are left out.
    const alone = mapOne('marketo', 'leads', MARKETO_LEAD_COLUMNS, row, marketo);
    expect(alone.main.input).not.toHaveProperty('identities');
    expect(alone.related).toEqual([]);
  });

  it('reject a row with a bad email, a score that is not a number, or no id, saying which column', () => {
    const map = (overrides: Row) => () => mapOne('marketo', 'leads', MARKETO_LEAD_COLUMNS, marketoLead(1, overrides), marketo);
    expect(map({ email: 'not-an-email' })).toThrow(new RowError('workEmail (column email): "not-an-email" is not a valid email address'));
    expect(map({ leadScore: 'high' })).toThrow(/leadScore: "high" is not a number/);
    expect(map({ id: '' })).toThrow(/id is required but empty/);
    expect(map({ unsubscribed: 'maybe' })).toThrow(/unsubscribed: "maybe" is not a boolean/);
    expect(map({ updatedAt: '31/01/2026' })).toThrow(/updatedAt: "31\/01\/2026" is not a date/);
  });

  it('read other columns when a mapping file says so, including custom attributes', () => {
    const header = ['LeadId', 'Email_Address__c', 'Region__c'];
    const override = { LeadId: 'id', Email_Address__c: 'workEmail', Region__c: 'attributes.region' };
    expect(mappingOverrideProblems(findMapping('marketo', 'leads'), override)).toEqual([]);
    const { main } = mapOne('marketo', 'leads', header, { LeadId: 42, Email_Address__c: 'x@y.example', Region__c: 'EMEA' }, marketo, override);
    expect(main.input).toEqual({ sourceKey: `42@${MUNCHKIN}.Marketo`, workEmail: 'x@y.example', attributes: { region: 'EMEA' } });
  });
});

describe('mapping files and headers', () => {
  const leads = findMapping('marketo', 'leads');

  it('name what is wrong with a mapping file', () => {
    expect(mappingOverrideProblems(leads, ['id'])).toEqual([expect.stringMatching(/must be a JSON object/)]);
    expect(mappingOverrideProblems(leads, { Foo: 'favouriteColour' })[0]).toMatch(/"favouriteColour", which is not a field of marketo leads; use one of id, workEmail/);
    expect(mappingOverrideProblems(leads, { Foo: 'attributes.$where' })[0]).toMatch(/not a field/);
    expect(mappingOverrideProblems(leads, { A: 'workEmail', B: 'workEmail' })).toEqual(['Two columns map to "workEmail"; keep one']);
    expect(mappingOverrideProblems(leads, { A: 7 })).toEqual(['Column "A" must map to a field name (a string)']);
  });

  it('report a header without a required column, and how to map it', () => {
    const header = ['email', 'firstName'];
    expect(missingColumnsProblem(leads, header, resolveColumns(leads, header))).toMatch(
      /no column for id \(column "id"\), which marketo leads needs.*mapping file, e.g. \{"My_Column": "id"\}/,
    );
    expect(missingColumnsProblem(leads, ['id'], resolveColumns(leads, ['id']))).toBeUndefined();
  });
});

describe('Marketo companies and activities', () => {
  it('map a company to an account', () => {
    const { main } = mapOne('marketo', 'companies', MARKETO_COMPANY_COLUMNS, marketoCompany(3), marketo);
    expect(main).toEqual({
      kind: 'accounts',
      input: { sourceKey: `503@${MUNCHKIN}.Marketo`, name: 'Company 3', domain: 'company3.example', industry: 'Software', annualRevenue: 4_000_000, employees: 40, country: 'US' },
    });
    expect(() => mapOne('marketo', 'companies', MARKETO_COMPANY_COLUMNS, marketoCompany(3, { numberOfEmployees: '12.5' }), marketo)).toThrow(/12.5 is not a whole number/);
  });

  it("map an activity to an event of the lead's identity, typed by activityTypeId", () => {
    const visit = mapOne('marketo', 'activities', MARKETO_ACTIVITY_COLUMNS, marketoActivity(0, 1001), marketo);
    expect(visit.main).toEqual({
      kind: 'events',
      input: {
        sourceKey: `900000@${MUNCHKIN}.Marketo`,
        identity: { namespace: 'b2b_person', value: `1001@${MUNCHKIN}.Marketo` },
        type: 'web.pageView',
        timestamp: '2026-01-01T00:00:00.000Z',
        url: 'https://www.example.com/page/0',
        campaign: '40',
        attributes: { client: 'web', n: 0, activityTypeId: 1 },
      },
    });
    const open = mapOne('marketo', 'activities', MARKETO_ACTIVITY_COLUMNS, marketoActivity(1, 1001), marketo);
    expect(open.main.input).toMatchObject({ type: 'email.open', attributes: { primaryAttributeValue: 'Email 1', activityTypeId: 10 } });
    expect(open.main.input).not.toHaveProperty('url');
    const other = mapOne('marketo', 'activities', MARKETO_ACTIVITY_COLUMNS, marketoActivity(2, 1001, { activityTypeId: 999 }), marketo);
    expect(other.main.input).toMatchObject({ type: 'marketo.activity.999' });
  });

  it('reject activities with a bad type id, a bad date or attribute keys that could inject operators', () => {
    const map = (overrides: Row) => () => mapOne('marketo', 'activities', MARKETO_ACTIVITY_COLUMNS, marketoActivity(0, 1, overrides), marketo);
    expect(map({ activityTypeId: 'click' })).toThrow(/activityTypeId: "click" is not a number/);
    expect(map({ activityDate: 'yesterday' })).toThrow(/activityDate: "yesterday" is not a date/);
    expect(map({ attributes: '{"$where": "1"}' })).toThrow(/attributes: JSON key "\$where"/);
    expect(map({ attributes: '{broken' })).toThrow(/attributes is not valid JSON/);
  });
});

describe('Salesforce', () => {
  it('maps an Account, with its parent as a source key', () => {
    const { main } = mapOne('salesforce', 'Account', SALESFORCE_ACCOUNT_COLUMNS, salesforceAccount(2, { ParentId: sfId('001', 1) }), salesforce);
    expect(main).toEqual({
      kind: 'accounts',
      input: {
        sourceKey: `${sfId('001', 2)}@${ORG}.Salesforce`,
        name: 'Account 2',
        domain: 'https://www.account2.example',
        industry: 'Software',
        annualRevenue: 5_002_000,
        employees: 52,
        country: 'US',
        type: 'Customer',
        parentSourceKey: `${sfId('001', 1)}@${ORG}.Salesforce`,
        sourceUpdatedAt: '2026-01-10T08:00:00.000Z',
      },
    });
  });

  it('maps a Contact to a person linked to its account, with consent from HasOptedOutOfEmail', () => {
    const { main, related } = mapOne('salesforce', 'Contact', SALESFORCE_CONTACT_COLUMNS, salesforceContact(1, 2, { HasOptedOutOfEmail: 'true' }), salesforce);
    const sourceKey = `${sfId('003', 1)}@${ORG}.Salesforce`;
    expect(main.input).toEqual({
      sourceKey,
      workEmail: 'contact1@account2.example',
      firstName: 'Contact1',
      lastName: 'Person1',
      jobTitle: 'Director',
      phone: '+1 555 0100',
      country: 'US',
      consents: { marketingEmail: 'n' },
      sourceUpdatedAt: '2026-01-12T08:00:00.000Z',
    });
    expect(related).toEqual([{ kind: 'accountLinks', input: { personSourceKey: sourceKey, accountSourceKey: `${sfId('001', 2)}@${ORG}.Salesforce`, isPrimary: true } }]);
  });

  it('maps a converted Lead with its contact as an identity', () => {
    const header = ['Id', 'Email', 'LastName', 'Company', 'Status', 'ConvertedContactId'];
    const { main } = mapOne('salesforce', 'Lead', header, { Id: '00Q1', Email: 'l@x.example', LastName: 'L', Company: 'X', Status: 'Working', ConvertedContactId: '0031' }, salesforce);
    expect(main.input).toEqual({
      sourceKey: `00Q1@${ORG}.Salesforce`,
      identities: [{ namespace: 'b2b_person', value: `0031@${ORG}.Salesforce` }],
      workEmail: 'l@x.example',
      lastName: 'L',
      leadStatus: 'Working',
      attributes: { company: 'X' },
    });
  });

  it('maps an Opportunity under its account, and rejects one without AccountId', () => {
    const { main } = mapOne('salesforce', 'Opportunity', SALESFORCE_OPPORTUNITY_COLUMNS, salesforceOpportunity(4, 2, { IsClosed: 'TRUE', IsWon: '1' }), salesforce);
    expect(main.input).toEqual({
      sourceKey: `${sfId('006', 4)}@${ORG}.Salesforce`,
      accountSourceKey: `${sfId('001', 2)}@${ORG}.Salesforce`,
      name: 'Deal 4',
      stage: 'Negotiation',
      amount: 25_004,
      currency: 'USD',
      closeDate: '2026-06-30T00:00:00.000Z',
      isClosed: true,
      isWon: true,
    });
    expect(() => mapOne('salesforce', 'Opportunity', SALESFORCE_OPPORTUNITY_COLUMNS, salesforceOpportunity(4, 2, { AccountId: '' }), salesforce)).toThrow(/AccountId is required/);
    expect(() => mapOne('salesforce', 'Opportunity', SALESFORCE_OPPORTUNITY_COLUMNS, salesforceOpportunity(4, 2, { Amount: '12k' }), salesforce)).toThrow(/amount \(column Amount\): "12k" is not a number/);
  });

  it('maps an OpportunityContactRole to an opportunity contact of the Contact', () => {
    const { main } = mapOne('salesforce', 'OpportunityContactRole', SALESFORCE_CONTACT_ROLE_COLUMNS, salesforceContactRole(1, 4, 3), salesforce);
    expect(main).toEqual({
      kind: 'opportunityContacts',
      input: {
        sourceKey: `${sfId('00K', 1)}@${ORG}.Salesforce`,
        opportunitySourceKey: `${sfId('006', 4)}@${ORG}.Salesforce`,
        personSourceKey: `${sfId('003', 3)}@${ORG}.Salesforce`,
        role: 'Decision Maker',
        isPrimary: true,
      },
    });
  });
});
