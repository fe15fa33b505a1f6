/**
 * CSV as RFC 4180 writes it: CRLF between records, and a field in double quotes
 * when it holds a quote, a comma, CR or LF (quotes doubled inside). Everything
 * else is written as is, so plain values stay readable.
 */
import type { AttributeValue } from '../connector.js';

const NEEDS_QUOTES = /[",\r\n]/;

export function csvField(value: AttributeValue | undefined): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvRecord(values: ReadonlyArray<AttributeValue | undefined>): string {
  return values.map(csvField).join(',');
}

/** A header and records, each record ended by CRLF (the last one too, as most tools expect). */
export function csvDocument(header: readonly string[], rows: ReadonlyArray<ReadonlyArray<AttributeValue | undefined>>): string {
  return [header, ...rows].map((row) => `${csvRecord(row)}\r\n`).join('');
}
