/**
 * What a change stream's leading `$match` says about an event's namespace and
 * operation type, read before the event is rendered.
 *
 * A cluster or database stream sees every write in its scope, and most are of
 * collections it does not watch: rendering each event and running the
 * pipeline over it cost more than the write itself did. This reads the
 * `$match` conditions on `ns.db`, `ns.coll` and `operationType` that are plain
 * strings, `$eq` or `$in` of strings (also under `$and` and `$or`) and answers
 * whether an event could pass them. It only ever rules out events the `$match`
 * would drop; the whole pipeline still runs over the rest, so whatever it does
 * not understand it leaves to the pipeline.
 */
import { isPlainObject, type Doc } from './values.js';

/** The fields of a change event this reads, as the log holds them. */
export interface ChangeFields {
  db: string | undefined;
  coll: string | undefined;
  operationType: string;
}

export type ChangePrefilter = (fields: ChangeFields) => boolean;

const FIELDS: Record<string, keyof ChangeFields> = { 'ns.db': 'db', 'ns.coll': 'coll', operationType: 'operationType' };

const ANY: ChangePrefilter = () => true;

/** The prefilter of a change stream pipeline: from its first stage when that is a `$match`, else one that passes all. */
export function changePrefilter(pipeline: readonly Doc[]): ChangePrefilter {
  const first = pipeline[0];
  if (!first || !isPlainObject(first.$match)) return ANY;
  return matchPrefilter(first.$match as Doc);
}

function matchPrefilter(match: Doc): ChangePrefilter {
  const tests: ChangePrefilter[] = [];
  for (const [key, condition] of Object.entries(match)) {
    if (key === '$and' && Array.isArray(condition)) {
      tests.push(...condition.filter(isPlainObject).map((clause) => matchPrefilter(clause as Doc)));
    } else if (key === '$or' && Array.isArray(condition) && condition.length > 0 && condition.every(isPlainObject)) {
      const branches = condition.map((clause) => matchPrefilter(clause as Doc));
      if (!branches.includes(ANY)) tests.push((fields) => branches.some((branch) => branch(fields)));
    } else if (key in FIELDS) {
      const allowed = allowedValues(condition);
      const field = FIELDS[key]!;
      if (allowed) tests.push((fields) => fields[field] !== undefined && allowed.has(fields[field]));
    }
  }
  if (tests.length === 0) return ANY;
  return (fields) => tests.every((test) => test(fields));
}

/** The strings a condition accepts, or undefined for a condition this does not read (it then constrains nothing here). */
function allowedValues(condition: unknown): Set<string> | undefined {
  if (typeof condition === 'string') return new Set([condition]);
  if (!isPlainObject(condition)) return undefined;
  const operators = Object.keys(condition);
  if (operators.length !== 1) return undefined;
  const [operator] = operators;
  const operand = (condition as Doc)[operator!];
  if (operator === '$eq' && typeof operand === 'string') return new Set([operand]);
  if (operator === '$in' && Array.isArray(operand) && operand.every((value) => typeof value === 'string')) return new Set(operand as string[]);
  return undefined;
}
