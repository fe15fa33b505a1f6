/** Small input checks shared by services; each failure says what to fix. */
import { badInput } from '../errors.js';

/** Trims a text field; empty becomes null. Longer than `max` is rejected. */
export function optionalText(value: string | null | undefined, field: string, max = 500): string | null | undefined {
  if (value === undefined) return undefined;
  if (value === null) return null;
  const trimmed = value.trim();
  if (trimmed.length > max) throw badInput(`${field} must be at most ${max} characters (got ${trimmed.length})`, { field });
  return trimmed === '' ? null : trimmed;
}

export function requiredText(value: string | null | undefined, field: string, max = 500): string {
  const text = optionalText(value, field, max);
  if (!text) throw badInput(`${field} is required and must not be blank`, { field });
  return text;
}

export function optionalNumber(value: number | null | undefined, field: string, options: { min?: number; integer?: boolean } = {}): number | null | undefined {
  if (value === undefined || value === null) return value;
  if (!Number.isFinite(value)) throw badInput(`${field} must be a finite number`, { field });
  if (options.integer && !Number.isInteger(value)) throw badInput(`${field} must be a whole number (got ${value})`, { field });
  if (options.min !== undefined && value < options.min) throw badInput(`${field} must be at least ${options.min} (got ${value})`, { field });
  return value;
}

/** Removes undefined entries, so only the fields a client sent are written. */
export function definedFields<T extends object>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as Partial<T>;
}
