/** What every source entity's mapping declares, and the context a row is mapped in. */
import type { SourceName } from '../sources.js';
import type { RowRecords, Attributes } from './records.js';
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
