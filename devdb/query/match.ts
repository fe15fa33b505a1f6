import { Query } from './mingoContext.js';
import { DevDbError, ErrorCode } from '../errors.js';
import type { Collation } from './collation.js';
import { collatedContext } from './collatedOps.js';
import { bsonType, isPlainObject, keyOf, toPlain, type Doc } from './values.js';

const mingoOptions = { idKey: '_id', useStrictMode: true } as const;

/** What a command adds to its filter: a collation for string comparisons, `let` variables for `$expr`. */
export interface MatchOptions {
  collation?: Collation;
  variables?: Doc;
}

/** A compiled MongoDB filter; values are normalised so mingo compares Long/Decimal128/Double by value. */
export class Matcher {
  private readonly query: Query | null;
  /**
   * For filters of plain `{ field: scalar }`, `{ field: { $in: [scalars] } }`, and their negations
   * `$ne` and `$nin`: canonical keys in a set, without mingo, whose `$in` compares each document
   * with every listed value (a 1,000-value `$in` would cost 1,000 comparisons per document).
   */
  private readonly simple: SimpleCondition[] | null = null;

  constructor(filter: unknown, options?: MatchOptions) {
    if (filter !== undefined && filter !== null && !isPlainObject(filter)) {
      throw new DevDbError(ErrorCode.TypeMismatch, 'filter must be an object');
    }
    const f = (filter ?? {}) as Doc;
    if (Object.keys(f).length === 0) {
      this.query = null;
      return;
    }
    this.simple = options?.collation ? null : simpleEqualities(f);
    if (this.simple) {
      this.query = null;
      return;
    }
    try {
      this.query = options === undefined
        ? new Query(toPlain(f) as Doc, mingoOptions)
        : new Query(toPlain(f) as Doc, {
          ...mingoOptions,
          ...(options.collation ? { context: collatedContext(options.collation) } : {}),
          ...(options.variables ? { variables: options.variables } : {}),
        });
    } catch (err) {
      throw refusedOperator(err) ?? new DevDbError(ErrorCode.BadValue, err instanceof Error ? err.message : String(err));
    }
  }

  get matchesAll(): boolean {
    return this.query === null && this.simple === null;
  }

  /** `wrapped` says the document holds numeric objects that must be plained first. */
  test(doc: Doc, wrapped = true): boolean {
    if (this.simple) {
      for (const { field, keys, negated } of this.simple) {
        const v = doc[field];
        // A field holds a listed value when it equals one or, being an array, has one as an element.
        const holds = keys.has(keyOf(v)) || (Array.isArray(v) && v.some((el) => keys.has(keyOf(el))));
        if (holds === negated) return false;
      }
      return true;
    }
    if (this.query === null) return true;
    try {
      return this.query.test(wrapped ? (toPlain(doc) as Doc) : doc);
    } catch (err) {
      throw new DevDbError(ErrorCode.BadValue, err instanceof Error ? err.message : String(err));
    }
  }
}

/** Scalars whose equality is exactly "same canonical key" in MongoDB (no null/missing, regex or documents). */
function isSimpleScalar(v: unknown): boolean {
  switch (typeof v) {
    case 'string': case 'boolean': return true;
    case 'number': return !Number.isNaN(v);
    case 'object': {
      if (v instanceof Date) return true;
      const t = bsonType(v);
      return t === 'ObjectId' || t === 'Long' || t === 'Int32';
    }
    default: return false;
  }
}

/** A top-level field holds one of `keys` (or, `negated`, none of them: `$ne`, `$nin`, which missing fields meet). */
interface SimpleCondition {
  field: string;
  keys: Set<string>;
  negated: boolean;
}

function simpleEqualities(filter: Doc): SimpleCondition[] | null {
  const out: SimpleCondition[] = [];
  for (const [field, v] of Object.entries(filter)) {
    if (field.startsWith('$') || field.includes('.')) return null;
    if (isSimpleScalar(v)) {
      out.push({ field, keys: new Set([keyOf(v)]), negated: false });
      continue;
    }
    if (!isPlainObject(v) || Object.keys(v).length !== 1) return null;
    const [operator, operand] = Object.entries(v as Doc)[0]!;
    if ((operator === '$eq' || operator === '$ne') && isSimpleScalar(operand)) {
      out.push({ field, keys: new Set([keyOf(operand)]), negated: operator === '$ne' });
      continue;
    }
    if ((operator !== '$in' && operator !== '$nin') || !Array.isArray(operand) || !operand.every(isSimpleScalar)) return null;
    out.push({ field, keys: new Set(operand.map((value) => keyOf(value))), negated: operator === '$nin' });
  }
  return out;
}

/** Query operators MongoDB has and devdb does not implement: named in a refusal, not mingo's "unknown operator". */
const REFUSED_OPERATORS: Record<string, string> = {
  $text: '$text queries (text indexes are stored but not used)',
  $near: 'geospatial queries ($near)',
  $nearSphere: 'geospatial queries ($nearSphere)',
  $geoWithin: 'geospatial queries ($geoWithin)',
  $geoIntersects: 'geospatial queries ($geoIntersects)',
  $where: '$where (server-side JavaScript)',
  $jsonSchema: '$jsonSchema in queries (it is supported in collection validators)',
  $function: '$function (server-side JavaScript)',
  $accumulator: '$accumulator (server-side JavaScript)',
};

/** A refusal naming the feature when a mingo error is about an operator devdb does not implement. */
export function refusedOperator(err: unknown): DevDbError | undefined {
  const message = err instanceof Error ? err.message : String(err);
  const op = Object.keys(REFUSED_OPERATORS).find((name) => message.includes(name));
  return op ? new DevDbError(ErrorCode.InvalidOptions, `devdb does not support ${REFUSED_OPERATORS[op]}`) : undefined;
}
