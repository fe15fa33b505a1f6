/** Words and operators of the language, shared by the parser, the printer and the checker. */
import type { ComparisonOperator, Quantifier, RelationName, StringFunction, TimeUnit } from './ast.js';

export const COMPARISON_OPERATORS: readonly ComparisonOperator[] = ['=', '!=', '>', '>=', '<', '<='];
export const WINDOW_OPERATORS = ['<=', '<', '>=', '>'] as const;
export const RELATIONS: readonly RelationName[] = ['events', 'accounts', 'opportunities', 'people'];
export const QUANTIFIERS: readonly Quantifier[] = ['any', 'all', 'none'];
export const STRING_FUNCTIONS: readonly StringFunction[] = ['contains', 'startsWith', 'endsWith'];
export const METHODS = ['contains', 'startsWith', 'endsWith', 'matches', 'includes', 'intersects', 'any', 'all', 'none', 'count'] as const;

export const UNITS: Readonly<Record<string, TimeUnit>> = {
  minute: 'minutes',
  minutes: 'minutes',
  hour: 'hours',
  hours: 'hours',
  day: 'days',
  days: 'days',
  week: 'weeks',
  weeks: 'weeks',
  month: 'months',
  months: 'months',
};

/** Milliseconds per unit; a month is 30 days by definition of the language. */
export const UNIT_MS: Readonly<Record<TimeUnit, number>> = {
  minutes: 60_000,
  hours: 3_600_000,
  days: 86_400_000,
  weeks: 7 * 86_400_000,
  months: 30 * 86_400_000,
};

export const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function isRelationName(name: string): name is RelationName {
  return (RELATIONS as readonly string[]).includes(name);
}
