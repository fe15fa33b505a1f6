import { Aggregator, guardPipeline } from './mingoContext.js';
import { DevDbError, ErrorCode } from '../errors.js';
import type { Collation } from './collation.js';
import { collatedContext } from './collatedOps.js';
import { refusedOperator } from './match.js';
import { isPlainObject, toPlain, type Doc } from './values.js';

export interface PipelineSource {
  /** The input documents (stored form). */
  docs: Iterable<{ doc: Doc; wrapped: boolean }>;
  /** Resolves `$lookup`/`$unionWith`/`$graphLookup` `from` names to stored documents. */
  resolve: (name: string) => Array<{ doc: Doc; wrapped: boolean }>;
  now: Date;
  variables?: Doc;
  collation?: Collation;
}

/**
 * Stages and operators that group or compare values by equality in ways mingo cannot collate; a
 * collated aggregation that uses them is refused rather than run with binary string comparison.
 */
const NOT_COLLATED = new Set([
  '$group', '$bucket', '$bucketAuto', '$sortByCount', '$lookup', '$graphLookup', '$unionWith', '$facet', '$setWindowFields',
  '$merge', '$densify', '$fill', '$setUnion', '$setIntersection', '$setEquals', '$setDifference', '$setIsSubset',
  '$indexOfArray', '$max', '$min', '$sortArray', '$addToSet', '$maxN', '$minN', '$top', '$topN', '$bottom', '$bottomN',
]);

/** Server-side JavaScript: refused by name (mingo would otherwise try to run whatever it was given). */
const JAVASCRIPT_OPERATORS = new Set(['$function', '$accumulator', '$where']);

export function refuseJavaScript(value: unknown): void {
  if (Array.isArray(value)) {
    value.forEach(refuseJavaScript);
    return;
  }
  if (!isPlainObject(value)) return;
  for (const [k, v] of Object.entries(value)) {
    if (JAVASCRIPT_OPERATORS.has(k)) throw new DevDbError(ErrorCode.InvalidOptions, `devdb does not support ${k} (server-side JavaScript)`);
    refuseJavaScript(v);
  }
}

export function refuseUncollatable(value: unknown): void {
  if (Array.isArray(value)) {
    value.forEach(refuseUncollatable);
    return;
  }
  if (!isPlainObject(value)) return;
  for (const [k, v] of Object.entries(value)) {
    // A $group on a constant key (countDocuments' { _id: 1 }) compares no strings.
    const constantGroup = k === '$group' && isPlainObject(v) && (v._id === null || typeof v._id === 'number' || typeof v._id === 'boolean');
    if (NOT_COLLATED.has(k) && !constantGroup) throw new DevDbError(ErrorCode.InvalidOptions, `devdb does not support collation with ${k}`);
    refuseUncollatable(v);
  }
}

/** mingo gets stored documents as they are (plained when they hold Long/Decimal128/Double objects). */
function prepare(recs: Iterable<{ doc: Doc; wrapped: boolean }>): Doc[] {
  const out: Doc[] = [];
  for (const r of recs) out.push(r.wrapped ? (toPlain(r.doc) as Doc) : r.doc);
  return out;
}

/** Runs an aggregation pipeline with mingo over normalised copies of the stored documents. */
export function runPipeline(pipeline: Doc[], source: PipelineSource): Doc[] {
  const input = prepare(source.docs);
  const cache = new Map<string, Doc[]>();
  const collectionResolver = (name: string): Doc[] => {
    let docs = cache.get(name);
    if (!docs) {
      docs = prepare(source.resolve(name));
      cache.set(name, docs);
    }
    return docs;
  };
  try {
    const collation = source.collation;
    const agg = new Aggregator(guardPipeline(toPlain(pipeline) as Doc[]), {
      idKey: '_id',
      collectionResolver,
      variables: { NOW: source.now, ...(source.variables ?? {}) },
      ...(collation ? { context: collatedContext(collation), collation: collation.mingoSpec as never } : {}),
    });
    return agg.run(input) as Doc[];
  } catch (err) {
    if (err instanceof DevDbError) throw err;
    const refused = refusedOperator(err);
    if (refused) throw refused;
    const message = err instanceof Error ? err.message : String(err);
    throw new DevDbError(ErrorCode.Location40324, `PlanExecutor error during aggregation :: caused by :: ${message}`);
  }
}
