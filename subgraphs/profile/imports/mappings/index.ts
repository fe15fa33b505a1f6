/**
 * The mapping of every source entity, and how a mapping file overrides one.
 *
 * A mapping file is a JSON object from a column of the export to one of our
 * fields: `{ "Email_Address__c": "workEmail", "Score__c": "leadScore",
 * "Region__c": "attributes.region" }`. A known field reads that column instead
 * of its default; `attributes.<key>` adds a custom attribute read from it.
 */
import type { SourceName } from '../sources.js';
import type { EntityMapping, MappingContext } from './mapping.js';
import { marketoActivities, marketoCompanies, marketoLeads } from './marketo.js';
import type { RowRecords } from './records.js';
import { MappedRow } from './row.js';
import {
  salesforceAccounts,
  salesforceContacts,
  salesforceLeads,
  salesforceOpportunities,
  salesforceOpportunityContactRoles,
} from './salesforce.js';

export type { EntityMapping, MappingContext } from './mapping.js';
export { RowError } from './row.js';

const MAPPINGS: readonly EntityMapping[] = [
  marketoLeads,
  marketoCompanies,
  marketoActivities,
  salesforceAccounts,
  salesforceContacts,
  salesforceLeads,
  salesforceOpportunities,
  salesforceOpportunityContactRoles,
];

/** Column -> field, as read from a mapping file. */
export type MappingOverride = Readonly<Record<string, string>>;

export const MAX_OVERRIDE_ENTRIES = 200;
const ATTRIBUTE_FIELD = /^attributes\.([A-Za-z_][A-Za-z0-9_-]{0,99})$/;

export function findMapping(source: SourceName, entity: string): EntityMapping {
  const mapping = MAPPINGS.find((m) => m.source === source && m.entity === entity);
  if (!mapping) throw new Error(`No mapping for ${source} ${entity}`);
  return mapping;
}

/**
 * Problems with a mapping file, each saying what to fix; empty when it is valid.
 * Checked when an import starts, so a bad file is refused before any upload.
 */
export function mappingOverrideProblems(mapping: EntityMapping, override: unknown): string[] {
  if (override === null || typeof override !== 'object' || Array.isArray(override)) {
    return ['The mapping must be a JSON object from a column name to a field, e.g. {"Email_Address__c": "workEmail"}'];
  }
  const entries = Object.entries(override);
  if (entries.length > MAX_OVERRIDE_ENTRIES) return [`The mapping may name at most ${MAX_OVERRIDE_ENTRIES} columns`];
  const problems: string[] = [];
  const targets = new Set<string>();
  for (const [column, field] of entries) {
    if (column.trim() === '') problems.push('A column name in the mapping is empty');
    if (typeof field !== 'string') {
      problems.push(`Column ${JSON.stringify(column)} must map to a field name (a string)`);
      continue;
    }
    if (!Object.hasOwn(mapping.fields, field) && !ATTRIBUTE_FIELD.test(field)) {
      problems.push(
        `Column ${JSON.stringify(column)} maps to ${JSON.stringify(field)}, which is not a field of ${mapping.source} ${mapping.entity}; ` +
          `use one of ${Object.keys(mapping.fields).join(', ')} or attributes.<key> (letters, digits, _ and -)`,
      );
    }
    if (targets.has(field)) problems.push(`Two columns map to ${JSON.stringify(field)}; keep one`);
    targets.add(field);
  }
  return problems;
}

/** Which column each field reads in a file with this header: the override's, else the first default present. */
export function resolveColumns(mapping: EntityMapping, header: readonly string[], override: MappingOverride = {}): Record<string, string | undefined> {
  const present = new Set(header);
  const columns: Record<string, string | undefined> = {};
  for (const [field, spec] of Object.entries(mapping.fields)) {
    const candidates = typeof spec.column === 'string' ? [spec.column] : spec.column;
    columns[field] = candidates.find((column) => present.has(column)) ?? candidates[0];
  }
  for (const [column, field] of Object.entries(override)) columns[field] = column;
  return columns;
}

/** Required fields whose column the header lacks: the import cannot run, and the message says how to fix it. */
export function missingColumnsProblem(mapping: EntityMapping, header: readonly string[], columns: Record<string, string | undefined>): string | undefined {
  const present = new Set(header);
  const missing = Object.entries(mapping.fields)
    .filter(([field, spec]) => spec.required && !present.has(columns[field] ?? ''))
    .map(([field]) => `${field} (column ${JSON.stringify(columns[field])})`);
  if (missing.length === 0) return undefined;
  return (
    `The file's header has no column for ${missing.join(', ')}, which ${mapping.source} ${mapping.entity} needs. ` +
    `Export those columns, or name the columns that hold them in a mapping file, e.g. {"My_Column": "${missing[0]!.split(' ')[0]}"}`
  );
}

/** A row mapper for one file: pure, throws RowError for a row it must reject. */
export function createRowMapper(
  mapping: EntityMapping,
  columns: Record<string, string | undefined>,
  context: MappingContext,
): (values: Readonly<Record<string, string>>) => RowRecords {
  return (values) => mapping.toRecords(new MappedRow(values, columns, mapping.fields), context);
}
