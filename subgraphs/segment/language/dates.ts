/** `date(y, m, d[, h, mi, s, ms])` literals: UTC, validated field by field, and written back the same way. */
import { languageError } from './errors.js';
import type { Token } from './lexer.js';

const FIELDS = [
  { name: 'year', min: 1, max: 9999 },
  { name: 'month', min: 1, max: 12 },
  { name: 'day', min: 1, max: 31 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'minute', min: 0, max: 59 },
  { name: 'second', min: 0, max: 59 },
  { name: 'millisecond', min: 0, max: 999 },
];

/** Epoch milliseconds of a date literal's arguments (3 to 7 of them). */
export function parseDateArguments(parts: readonly Token[]): number {
  const values = parts.map((token, i) => {
    const field = FIELDS[i];
    if (!Number.isInteger(token.value) || token.value < field.min || token.value > field.max) {
      throw languageError('syntax', token.start, `the ${field.name} of date(...) must be a whole number from ${field.min} to ${field.max}`);
    }
    return token.value;
  });
  const [year, month, day, hour = 0, minute = 0, second = 0, millisecond = 0] = values;
  const date = new Date(0);
  // setUTCFullYear, not Date.UTC: Date.UTC maps years 0-99 to 1900-1999.
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, millisecond);
  if (date.getUTCDate() !== day) {
    throw languageError('syntax', parts[2].start, `date(${year}, ${month}, ${day}) does not exist: that month has fewer days`);
  }
  return date.getTime();
}

/** The shortest argument list that gives back `epochMs`: y, m, d, then time fields up to the last non-zero one. */
export function dateArguments(epochMs: number): number[] {
  const date = new Date(epochMs);
  const all = [
    date.getUTCFullYear(),
    date.getUTCMonth() + 1,
    date.getUTCDate(),
    date.getUTCHours(),
    date.getUTCMinutes(),
    date.getUTCSeconds(),
    date.getUTCMilliseconds(),
  ];
  let length = all.length;
  while (length > 3 && all[length - 1] === 0) length--;
  return all.slice(0, length);
}
