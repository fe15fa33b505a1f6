/**
 * What an audience file holds and what it is called. A row is a member: its id
 * and type, its status (REALIZED or EXITED in incremental files, PRESENT in full
 * ones), its marketing-email consent, its identities and the mapped fields.
 * Names derive from the activation, the run, the batch and the part, so writing
 * a run again replaces its files instead of adding copies.
 */
import type { AttributeValue, DeliveryMember, FieldMapping } from '../connector.js';
import { mappedAttributes } from '../mapping.js';
import { csvDocument } from './csv.js';

export type FileFormat = 'CSV' | 'JSON';
export type FileMode = 'FULL' | 'INCREMENTAL';
export type RowStatus = 'REALIZED' | 'EXITED' | 'PRESENT';

export interface AudienceRow {
  member: DeliveryMember;
  status: RowStatus;
}

export interface FileLayout {
  format: FileFormat;
  identityColumns: readonly string[];
  fieldNames: readonly string[];
  mapping: readonly FieldMapping[];
}

const FIXED_COLUMNS = ['memberId', 'memberType', 'status', 'consentMarketingEmail'] as const;

export function extensionOf(format: FileFormat): string {
  return format === 'CSV' ? 'csv' : 'jsonl';
}

/**
 * `<activation>.<run>.<batch>.<part>.<csv|jsonl>`, e.g. `act_01j.run_01k.00000.0001.csv`; anything
 * outside [A-Za-z0-9_-] in an id becomes `-`, so the dots between the parts are unambiguous.
 */
export function audienceFileName(activationId: string, runId: string, sequence: number, part: number, format: FileFormat): string {
  return `${filePrefix(activationId, runId)}${String(sequence).padStart(5, '0')}.${String(part).padStart(4, '0')}.${extensionOf(format)}`;
}

export function filePrefix(activationId: string, runId: string): string {
  return `${safe(activationId)}.${safe(runId)}.`;
}

function safe(id: string): string {
  return id.replace(/[^A-Za-z0-9_-]/g, '-');
}

export function csvHeader(layout: FileLayout): string[] {
  return [...FIXED_COLUMNS, ...layout.identityColumns.map((name) => `identity.${name}`), ...layout.fieldNames];
}

export function renderFile(layout: FileLayout, rows: readonly AudienceRow[]): string {
  if (layout.format === 'CSV') {
    return csvDocument(
      csvHeader(layout),
      rows.map(({ member, status }) => {
        const attributes = mappedAttributes(member, layout.mapping);
        return [
          member.memberId,
          member.memberType,
          status,
          member.consentMarketingEmail ?? null,
          ...layout.identityColumns.map((name) => member.identities[name] ?? null),
          ...layout.fieldNames.map((name) => scalarOrJson(attributes[name])),
        ];
      }),
    );
  }
  return rows
    .map(({ member, status }) => {
      const identities: Record<string, string | null> = {};
      for (const name of layout.identityColumns) identities[name] = member.identities[name] ?? null;
      return `${JSON.stringify({
        memberId: member.memberId,
        memberType: member.memberType,
        status,
        consentMarketingEmail: member.consentMarketingEmail ?? null,
        identities,
        attributes: mappedAttributes(member, layout.mapping),
      })}\n`;
    })
    .join('');
}

/** A list or map that reached a CSV cell is written as JSON rather than as "[object Object]". */
function scalarOrJson(value: unknown): AttributeValue {
  if (value === undefined) return null;
  return value === null || typeof value !== 'object' ? (value as AttributeValue) : JSON.stringify(value);
}
