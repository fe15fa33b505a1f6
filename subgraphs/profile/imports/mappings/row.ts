/**
 * Reading one CSV row through a mapping: each of our fields comes from a
 * column, is trimmed and coerced to its type. A value that cannot be coerced
 * throws a RowError naming the field, the column and what is wrong, which
 * rejects that row only.
 */
import { normaliseEmail } from '../../../../lib/identity/namespaces.js';
import { parseJsonObject, type JsonObject } from '../../../../lib/subgraph/scalars.js';

export class RowError extends Error {
  constructor(
    message: string,
    readonly code: 'BAD_USER_INPUT' = 'BAD_USER_INPUT',
  ) {
    super(message);
    this.name = 'RowError';
  }
}

export type FieldType = 'text' | 'email' | 'number' | 'integer' | 'boolean' | 'date' | 'json';

export interface FieldSpec {
  /** The export's column, or columns tried in order (the first present in the header wins). */
  column: string | readonly string[];
  type: FieldType;
  /** A row without a value here is rejected; a file without the column fails the import. */
  required?: boolean;
  /** What the field becomes in our model, for the documentation. */
  doc: string;
}

export type FieldSpecs = Readonly<Record<string, FieldSpec>>;

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const TRUE = new Set(['true', '1', 'yes', 'y', 't']);
const FALSE = new Set(['false', '0', 'no', 'n', 'f']);
/** ISO dates and date-times, with `T` or a space, seconds and fractions optional, a zone as Z, +hh:mm or +hhmm. */
const DATE_TIME = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)(Z|[+-]\d{2}:?\d{2})?)?$/;

export function parseNumber(raw: string, label: string): number {
  const value = Number(raw);
  if (!NUMBER.test(raw) || !Number.isFinite(value)) throw new RowError(`${label}: ${JSON.stringify(raw)} is not a number`);
  return value;
}

export function parseDate(raw: string, label: string): string {
  const match = DATE_TIME.exec(raw);
  const fail = () =>
    new RowError(`${label}: ${JSON.stringify(raw)} is not a date; use ISO-8601, e.g. 2026-01-31 or 2026-01-31T09:30:00Z`);
  if (!match) throw fail();
  const [, day, time, zone] = match;
  // Exports without a zone are read as UTC; "+0000" (Salesforce) becomes "+00:00".
  const offset = !zone ? 'Z' : zone === 'Z' ? 'Z' : zone.includes(':') ? zone : `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const date = new Date(time ? `${day}T${time}${offset}` : `${day}T00:00:00Z`);
  if (Number.isNaN(date.getTime()) || (!time && date.toISOString().slice(0, 10) !== day)) throw fail();
  return date.toISOString();
}

/** A row seen through a mapping: `columns` says which column each field reads. */
export class MappedRow {
  constructor(
    private readonly values: Readonly<Record<string, string>>,
    private readonly columns: Readonly<Record<string, string | undefined>>,
    private readonly specs: FieldSpecs,
  ) {}

  private label(field: string): string {
    const column = this.columns[field];
    return column && column !== field ? `${field} (column ${column})` : field;
  }

  private raw(field: string): string | undefined {
    const column = this.columns[field];
    const value = column === undefined ? undefined : this.values[column]?.trim();
    if (value === undefined || value === '') {
      if (this.specs[field]?.required) throw new RowError(`${this.label(field)} is required but empty`);
      return undefined;
    }
    return value;
  }

  text(field: string): string | undefined {
    return this.raw(field);
  }

  /** A required field's text (its spec says `required`, so `raw` has thrown when empty). */
  required(field: string): string {
    const value = this.raw(field);
    if (value === undefined) throw new RowError(`${this.label(field)} is required but empty`);
    return value;
  }

  email(field: string): string | undefined {
    const raw = this.raw(field);
    if (raw === undefined) return undefined;
    try {
      return normaliseEmail(raw);
    } catch {
      throw new RowError(`${this.label(field)}: ${JSON.stringify(raw)} is not a valid email address`);
    }
  }

  number(field: string): number | undefined {
    const raw = this.raw(field);
    return raw === undefined ? undefined : parseNumber(raw.replace(/,/g, ''), this.label(field));
  }

  integer(field: string): number | undefined {
    const value = this.number(field);
    if (value !== undefined && !Number.isSafeInteger(value)) {
      throw new RowError(`${this.label(field)}: ${value} is not a whole number`);
    }
    return value;
  }

  boolean(field: string): boolean | undefined {
    const raw = this.raw(field);
    if (raw === undefined) return undefined;
    const lower = raw.toLowerCase();
    if (TRUE.has(lower)) return true;
    if (FALSE.has(lower)) return false;
    throw new RowError(`${this.label(field)}: ${JSON.stringify(raw)} is not a boolean; use true or false`);
  }

  date(field: string): string | undefined {
    const raw = this.raw(field);
    return raw === undefined ? undefined : parseDate(raw, this.label(field));
  }

  /** A JSON object column, held to the same rules as the API's JSON scalar (no `$` keys, no dots). */
  json(field: string): JsonObject | undefined {
    const raw = this.raw(field);
    if (raw === undefined) return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw new RowError(`${this.label(field)} is not valid JSON`);
    }
    return checkedAttributes(parsed, this.label(field));
  }

  /** Values of the custom attribute columns a mapping file added (`"Column": "attributes.key"`). */
  customAttributes(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [field, column] of Object.entries(this.columns)) {
      if (!field.startsWith('attributes.') || column === undefined) continue;
      const value = this.values[column]?.trim();
      if (value) out[field.slice('attributes.'.length)] = value;
    }
    return out;
  }
}

export function checkedAttributes(value: unknown, label: string): JsonObject {
  try {
    return parseJsonObject(value);
  } catch (error) {
    throw new RowError(`${label}: ${(error as Error).message}`);
  }
}

/** Drops undefined entries, so only fields a row has are sent (absent keeps the stored value). */
export function compact<T extends object>(record: T): T {
  for (const key of Object.keys(record) as Array<keyof T>) if (record[key] === undefined) delete record[key];
  return record;
}
