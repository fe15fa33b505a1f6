/**
 * Marketo export files (bulk extract or list export), with Marketo's REST field
 * names as column names.
 *
 * leads      one person per row, keyed `<id>@<munchkin>.Marketo`. `unsubscribed`
 *            true becomes consents.marketingEmail "n". When the import names the
 *            Salesforce org Marketo syncs with (`crmInstance`), `sfdcContactId` and
 *            `sfdcLeadId` become b2b_person identities `<id>@<org>.Salesforce`, so the
 *            lead joins the profile of a direct Salesforce import, and
 *            `sfdcAccountId` links the person to the account `<id>@<org>.Salesforce`
 *            as their primary account (import that org's Accounts first).
 *            `externalCompanyId` links the person to the Marketo company's account
 *            `<externalCompanyId>@<munchkin>.Marketo` (primary unless sfdcAccountId
 *            gives one; import the companies first).
 * companies  one account per row, keyed `<externalCompanyId>@<munchkin>.Marketo`
 *            (the key leads name their company by), or `<id>@<munchkin>.Marketo`
 *            when the file has no externalCompanyId column.
 * activities one experience event per row, keyed `<marketoGUID>@<munchkin>.Marketo`,
 *            belonging to the lead `<leadId>@<munchkin>.Marketo`; `activityTypeId`
 *            becomes the event type (ACTIVITY_TYPES), `primaryAttributeValue` the
 *            url of web activities and an attribute of the others, and the
 *            `attributes` column (a JSON object) the event's attributes.
 */
import { IdentityNamespace } from '../../../../lib/identity/namespaces.js';
import type { IdentityInput, IngestRecord } from './records.js';
import { compact, RowError } from './row.js';
import {
  attributesAndUpdatedAt,
  contactFields,
  emailConsent,
  firmographicFields,
  marketoKey,
  only,
  rowAttributes,
  salesforceKey,
  type EntityMapping,
} from './mapping.js';

/** Marketo's standard activity type ids and the event type each becomes; others become `marketo.activity.<id>`. */
export const ACTIVITY_TYPES: Readonly<Record<number, string>> = {
  1: 'web.pageView',
  2: 'form.submit',
  3: 'web.linkClick',
  6: 'email.send',
  7: 'email.delivered',
  8: 'email.bounce',
  9: 'email.unsubscribe',
  10: 'email.open',
  11: 'email.click',
  12: 'lead.created',
  13: 'lead.dataValueChange',
  22: 'lead.scoreChange',
  24: 'list.add',
  46: 'interestingMoment',
  104: 'program.statusChange',
};
/** Activities whose primary attribute is a web address. */
const WEB_ACTIVITIES = new Set([1, 3]);

export const marketoLeads: EntityMapping = {
  source: 'marketo',
  entity: 'leads',
  description: 'one person per lead (upsertPeople), plus a primary account link from sfdcAccountId when crmInstance is given',
  fields: {
    id: { column: 'id', type: 'text', required: true, doc: 'the lead id: sourceKey <id>@<munchkin>.Marketo' },
    workEmail: { column: 'email', type: 'email', doc: 'workEmail' },
    firstName: { column: 'firstName', type: 'text', doc: 'firstName' },
    lastName: { column: 'lastName', type: 'text', doc: 'lastName' },
    jobTitle: { column: 'title', type: 'text', doc: 'jobTitle' },
    phone: { column: 'phone', type: 'text', doc: 'phone' },
    country: { column: 'country', type: 'text', doc: 'country' },
    leadScore: { column: 'leadScore', type: 'number', doc: 'leadScore' },
    leadStatus: { column: 'leadStatus', type: 'text', doc: 'leadStatus' },
    unsubscribed: { column: 'unsubscribed', type: 'boolean', doc: 'consents.marketingEmail: true -> "n", false -> "y"' },
    company: { column: 'company', type: 'text', doc: 'attributes.company' },
    sfdcLeadId: { column: 'sfdcLeadId', type: 'text', doc: 'with crmInstance: identity b2b_person <id>@<org>.Salesforce' },
    sfdcContactId: { column: 'sfdcContactId', type: 'text', doc: 'with crmInstance: identity b2b_person <id>@<org>.Salesforce' },
    sfdcAccountId: { column: 'sfdcAccountId', type: 'text', doc: 'with crmInstance: primary account <id>@<org>.Salesforce' },
    externalCompanyId: { column: 'externalCompanyId', type: 'text', doc: "account link to the company <externalCompanyId>@<munchkin>.Marketo, primary unless sfdcAccountId's is" },
    updatedAt: { column: 'updatedAt', type: 'date', doc: 'sourceUpdatedAt' },
  },
  toRecords(row, { instance, crmInstance }) {
    const sourceKey = marketoKey(row.required('id'), instance);
    const identities: IdentityInput[] = [];
    const related: IngestRecord[] = [];
    const sfdcContactId = row.text('sfdcContactId');
    const sfdcLeadId = row.text('sfdcLeadId');
    const sfdcAccountId = row.text('sfdcAccountId');
    const externalCompanyId = row.text('externalCompanyId');
    if (externalCompanyId) {
      related.push({
        kind: 'accountLinks',
        input: { personSourceKey: sourceKey, accountSourceKey: marketoKey(externalCompanyId, instance), isPrimary: !(crmInstance && sfdcAccountId) },
      });
    }
    if (crmInstance) {
      for (const id of [sfdcContactId, sfdcLeadId]) {
        if (id) identities.push({ namespace: IdentityNamespace.Person, value: salesforceKey(id, crmInstance) });
      }
      if (sfdcAccountId) {
        related.push({
          kind: 'accountLinks',
          input: { personSourceKey: sourceKey, accountSourceKey: salesforceKey(sfdcAccountId, crmInstance), isPrimary: true },
        });
      }
    }
    const person = compact({
      sourceKey,
      identities: identities.length > 0 ? identities : undefined,
      ...contactFields(row),
      leadScore: row.number('leadScore'),
      leadStatus: row.text('leadStatus'),
      consents: emailConsent(row.boolean('unsubscribed')),
      ...attributesAndUpdatedAt(row, { company: row.text('company') }),
    });
    return { main: { kind: 'people', input: person }, related };
  },
};

export const marketoCompanies: EntityMapping = {
  source: 'marketo',
  entity: 'companies',
  description: 'one account per company (upsertAccounts)',
  fields: {
    id: { column: ['externalCompanyId', 'id'], type: 'text', required: true, doc: 'sourceKey <externalCompanyId or id>@<munchkin>.Marketo' },
    name: { column: 'company', type: 'text', doc: 'name' },
    domain: { column: 'website', type: 'text', doc: 'domain' },
    industry: { column: 'industry', type: 'text', doc: 'industry' },
    annualRevenue: { column: 'annualRevenue', type: 'number', doc: 'annualRevenue' },
    employees: { column: 'numberOfEmployees', type: 'integer', doc: 'employees' },
    country: { column: 'billingCountry', type: 'text', doc: 'country' },
    updatedAt: { column: 'updatedAt', type: 'date', doc: 'sourceUpdatedAt' },
  },
  toRecords(row, { instance }) {
    const account = compact({
      sourceKey: marketoKey(row.required('id'), instance),
      ...firmographicFields(row),
      ...attributesAndUpdatedAt(row),
    });
    return only({ kind: 'accounts', input: account });
  },
};

export const marketoActivities: EntityMapping = {
  source: 'marketo',
  entity: 'activities',
  description: "one experience event per activity (ingestEvents), belonging to the lead's b2b_person identity",
  fields: {
    id: { column: ['marketoGUID', 'id'], type: 'text', required: true, doc: 'sourceKey <id>@<munchkin>.Marketo' },
    leadId: { column: 'leadId', type: 'text', required: true, doc: 'identity b2b_person <leadId>@<munchkin>.Marketo' },
    activityTypeId: { column: 'activityTypeId', type: 'integer', required: true, doc: 'type, see ACTIVITY_TYPES' },
    activityDate: { column: 'activityDate', type: 'date', required: true, doc: 'timestamp' },
    primaryAttributeValue: { column: 'primaryAttributeValue', type: 'text', doc: 'url (web activities) or attributes.primaryAttributeValue' },
    campaignId: { column: 'campaignId', type: 'text', doc: 'campaign' },
    attributes: { column: 'attributes', type: 'json', doc: 'attributes (a JSON object)' },
  },
  toRecords(row, { instance }) {
    const typeId = row.integer('activityTypeId')!;
    if (typeId < 1) throw new RowError(`activityTypeId: ${typeId} is not a Marketo activity type id`);
    const primary = row.text('primaryAttributeValue');
    const isWeb = WEB_ACTIVITIES.has(typeId);
    const event = compact({
      sourceKey: marketoKey(row.required('id'), instance),
      identity: { namespace: IdentityNamespace.Person, value: marketoKey(row.required('leadId'), instance) },
      type: ACTIVITY_TYPES[typeId] ?? `marketo.activity.${typeId}`,
      timestamp: row.date('activityDate')!,
      url: isWeb ? primary : undefined,
      campaign: row.text('campaignId'),
      attributes: rowAttributes(row, {
        ...row.json('attributes'),
        activityTypeId: typeId,
        primaryAttributeValue: isWeb ? undefined : primary,
      }),
    });
    return only({ kind: 'events', input: event });
  },
};
