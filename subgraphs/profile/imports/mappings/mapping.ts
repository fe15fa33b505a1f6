/** What every source entity's mapping declares, and the context a row is mapped in. */
import type { SourceName } from '../sources.js';
import type { Attributes, IngestRecord, RowRecords } from './records.js';
import { checkedAttributes, type FieldSpecs, type MappedRow } from './row.js';

export interface MappingContext {
  /** The source instance: a Munchkin id or a Salesforce org id. */
  instance: string;
  /** Marketo only: the Salesforce org Marketo syncs with; its sfdc* ids become that org's source keys. */
  crmInstance?: string;
}

export interface EntityMapping {
  source: SourceName;
  entity: string;
  /** What one row becomes. */
  description: string;
  /** Our fields, each read from a default column of the export; a mapping file can point a field at another column. */
  fields: FieldSpecs;
  toRecords(row: MappedRow, context: MappingContext): RowRecords;
}

export const marketoKey = (id: string, instance: string) => `${id}@${instance}.Marketo`;
export const salesforceKey = (id: string, instance: string) => `${id}@${instance}.Salesforce`;

/** `fixed` attributes (e.g. a lead's company) with the mapping file's custom columns over them; undefined when empty. */
export function rowAttributes(row: MappedRow, fixed: Record<string, unknown> = {}): Attributes | undefined {
  const merged: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fixed)) if (value !== undefined) merged[key] = value;
  Object.assign(merged, row.customAttributes());
  return Object.keys(merged).length === 0 ? undefined : checkedAttributes(merged, 'attributes');
}

/** Marketo `unsubscribed` and Salesforce `HasOptedOutOfEmail`: opted out means no marketing email. */
export function emailConsent(optedOut: boolean | undefined): { marketingEmail: 'y' | 'n' } | undefined {
  return optedOut === undefined ? undefined : { marketingEmail: optedOut ? 'n' : 'y' };
}

/**
 * A person's contact details, read from the fields of these names, which every person export declares
 * (each with its own columns): Marketo leads, Salesforce contacts and leads.
 */
export function contactFields(row: MappedRow) {
  return {
    workEmail: row.email('workEmail'),
    firstName: row.text('firstName'),
    lastName: row.text('lastName'),
    jobTitle: row.text('jobTitle'),
    phone: row.text('phone'),
    country: row.text('country'),
  };
}

/** An account's firmographics, read from the fields of these names that Marketo companies and Salesforce accounts declare. */
export function firmographicFields(row: MappedRow) {
  return {
    name: row.text('name'),
    domain: row.text('domain'),
    industry: row.text('industry'),
    annualRevenue: row.number('annualRevenue'),
    employees: row.integer('employees'),
    country: row.text('country'),
  };
}

/** What closes every person, account and opportunity record: its custom attributes and when the source last changed it. */
export function attributesAndUpdatedAt(row: MappedRow, fixed: Record<string, unknown> = {}) {
  return { attributes: rowAttributes(row, fixed), sourceUpdatedAt: row.date('updatedAt') };
}

/** A row that becomes one record, with nothing hanging off it. */
export function only(main: IngestRecord): RowRecords {
  return { main, related: [] };
}
