/**
 * Salesforce object exports (Data Loader, Data Export, Bulk API) with API field
 * names as column names. Every record is keyed `<Id>@<orgId>.Salesforce`, and
 * references (AccountId, ParentId, ContactId, OpportunityId) become the source
 * keys of the records they point at, so files can be loaded in this order:
 * Account, Contact and Lead, Opportunity, OpportunityContactRole.
 *
 * Account                one account (upsertAccounts); ParentId -> parent account.
 * Contact                one person (upsertPeople); AccountId -> their primary account link.
 * Lead                   one person; ConvertedContactId -> identity b2b_person of that contact,
 *                        so a converted lead and its contact are one profile.
 * Opportunity            one opportunity (upsertOpportunities) under AccountId's account.
 * OpportunityContactRole one opportunity-person relation (addOpportunityContacts).
 * HasOptedOutOfEmail true becomes consents.marketingEmail "n".
 */
import { IdentityNamespace } from '../../../../lib/identity/namespaces.js';
import type { IngestRecord } from './records.js';
import { compact } from './row.js';
import {
  attributesAndUpdatedAt,
  contactFields,
  emailConsent,
  firmographicFields,
  only,
  salesforceKey,
  type EntityMapping,
} from './mapping.js';

const modified = { column: 'LastModifiedDate', type: 'date', doc: 'sourceUpdatedAt' } as const;
const id = { column: 'Id', type: 'text', required: true, doc: 'sourceKey <Id>@<orgId>.Salesforce' } as const;

export const salesforceAccounts: EntityMapping = {
  source: 'salesforce',
  entity: 'Account',
  description: 'one account per row (upsertAccounts)',
  fields: {
    Id: id,
    name: { column: 'Name', type: 'text', doc: 'name' },
    domain: { column: 'Website', type: 'text', doc: 'domain' },
    industry: { column: 'Industry', type: 'text', doc: 'industry' },
    annualRevenue: { column: 'AnnualRevenue', type: 'number', doc: 'annualRevenue' },
    employees: { column: 'NumberOfEmployees', type: 'integer', doc: 'employees' },
    country: { column: 'BillingCountry', type: 'text', doc: 'country' },
    type: { column: 'Type', type: 'text', doc: 'type' },
    ParentId: { column: 'ParentId', type: 'text', doc: 'parent account <ParentId>@<orgId>.Salesforce' },
    updatedAt: modified,
  },
  toRecords(row, { instance }) {
    const parent = row.text('ParentId');
    const account = compact({
      sourceKey: salesforceKey(row.required('Id'), instance),
      ...firmographicFields(row),
      type: row.text('type'),
      parentSourceKey: parent ? salesforceKey(parent, instance) : undefined,
      ...attributesAndUpdatedAt(row),
    });
    return only({ kind: 'accounts', input: account });
  },
};

const personFields = {
  Id: id,
  workEmail: { column: 'Email', type: 'email', doc: 'workEmail' },
  firstName: { column: 'FirstName', type: 'text', doc: 'firstName' },
  lastName: { column: 'LastName', type: 'text', doc: 'lastName' },
  jobTitle: { column: 'Title', type: 'text', doc: 'jobTitle' },
  phone: { column: 'Phone', type: 'text', doc: 'phone' },
  HasOptedOutOfEmail: { column: 'HasOptedOutOfEmail', type: 'boolean', doc: 'consents.marketingEmail: true -> "n", false -> "y"' },
  updatedAt: modified,
} as const;

export const salesforceContacts: EntityMapping = {
  source: 'salesforce',
  entity: 'Contact',
  description: "one person per contact (upsertPeople) and a primary link to the contact's AccountId (linkPeopleToAccounts)",
  fields: {
    ...personFields,
    country: { column: 'MailingCountry', type: 'text', doc: 'country' },
    AccountId: { column: 'AccountId', type: 'text', doc: 'primary account link to <AccountId>@<orgId>.Salesforce' },
  },
  toRecords(row, { instance }) {
    const sourceKey = salesforceKey(row.required('Id'), instance);
    const accountId = row.text('AccountId');
    const person = compact({
      sourceKey,
      ...contactFields(row),
      consents: emailConsent(row.boolean('HasOptedOutOfEmail')),
      ...attributesAndUpdatedAt(row),
    });
    const related: IngestRecord[] = accountId
      ? [{ kind: 'accountLinks', input: { personSourceKey: sourceKey, accountSourceKey: salesforceKey(accountId, instance), isPrimary: true } }]
      : [];
    return { main: { kind: 'people', input: person }, related };
  },
};

export const salesforceLeads: EntityMapping = {
  source: 'salesforce',
  entity: 'Lead',
  description: 'one person per lead (upsertPeople); a converted lead carries its contact as an identity',
  fields: {
    ...personFields,
    country: { column: 'Country', type: 'text', doc: 'country' },
    leadStatus: { column: 'Status', type: 'text', doc: 'leadStatus' },
    company: { column: 'Company', type: 'text', doc: 'attributes.company' },
    ConvertedContactId: { column: 'ConvertedContactId', type: 'text', doc: 'identity b2b_person <ConvertedContactId>@<orgId>.Salesforce' },
  },
  toRecords(row, { instance }) {
    const converted = row.text('ConvertedContactId');
    const person = compact({
      sourceKey: salesforceKey(row.required('Id'), instance),
      identities: converted ? [{ namespace: IdentityNamespace.Person, value: salesforceKey(converted, instance) }] : undefined,
      ...contactFields(row),
      leadStatus: row.text('leadStatus'),
      consents: emailConsent(row.boolean('HasOptedOutOfEmail')),
      ...attributesAndUpdatedAt(row, { company: row.text('company') }),
    });
    return only({ kind: 'people', input: person });
  },
};

export const salesforceOpportunities: EntityMapping = {
  source: 'salesforce',
  entity: 'Opportunity',
  description: "one opportunity per row (upsertOpportunities) under AccountId's account",
  fields: {
    Id: id,
    AccountId: { column: 'AccountId', type: 'text', required: true, doc: 'accountSourceKey <AccountId>@<orgId>.Salesforce' },
    name: { column: 'Name', type: 'text', doc: 'name' },
    stage: { column: 'StageName', type: 'text', doc: 'stage' },
    amount: { column: 'Amount', type: 'number', doc: 'amount' },
    currency: { column: 'CurrencyIsoCode', type: 'text', doc: 'currency' },
    closeDate: { column: 'CloseDate', type: 'date', doc: 'closeDate' },
    isClosed: { column: 'IsClosed', type: 'boolean', doc: 'isClosed' },
    isWon: { column: 'IsWon', type: 'boolean', doc: 'isWon' },
    updatedAt: modified,
  },
  toRecords(row, { instance }) {
    const opportunity = compact({
      sourceKey: salesforceKey(row.required('Id'), instance),
      accountSourceKey: salesforceKey(row.required('AccountId'), instance),
      name: row.text('name'),
      stage: row.text('stage'),
      amount: row.number('amount'),
      currency: row.text('currency'),
      closeDate: row.date('closeDate'),
      isClosed: row.boolean('isClosed'),
      isWon: row.boolean('isWon'),
      ...attributesAndUpdatedAt(row),
    });
    return only({ kind: 'opportunities', input: opportunity });
  },
};

export const salesforceOpportunityContactRoles: EntityMapping = {
  source: 'salesforce',
  entity: 'OpportunityContactRole',
  description: 'one opportunity-person relation per row (addOpportunityContacts)',
  fields: {
    Id: id,
    OpportunityId: { column: 'OpportunityId', type: 'text', required: true, doc: 'opportunitySourceKey <OpportunityId>@<orgId>.Salesforce' },
    ContactId: { column: 'ContactId', type: 'text', required: true, doc: 'personSourceKey <ContactId>@<orgId>.Salesforce' },
    role: { column: 'Role', type: 'text', doc: 'role, e.g. Decision Maker' },
    isPrimary: { column: 'IsPrimary', type: 'boolean', doc: 'isPrimary' },
  },
  toRecords(row, { instance }) {
    const contact = compact({
      sourceKey: salesforceKey(row.required('Id'), instance),
      opportunitySourceKey: salesforceKey(row.required('OpportunityId'), instance),
      personSourceKey: salesforceKey(row.required('ContactId'), instance),
      role: row.text('role'),
      isPrimary: row.boolean('isPrimary'),
    });
    return only({ kind: 'opportunityContacts', input: contact });
  },
};
