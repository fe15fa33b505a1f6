import { Aggregator, guardPipeline } from './mingoContext.js';
import { DevDbError, ErrorCode } from '../errors.js';
import { toPlain, type Doc } from './values.js';

export interface PipelineSource {
  /** The input documents (stored form). */
  docs: Iterable<{ doc: Doc; wrapped: boolean }>;
  /** Resolves `$lookup`/`$unionWith`/`$graphLookup` `from` names to stored documents. */
  resolve: (name: string) => Array<{ doc: Doc; wrapped: boolean }>;
  now: Date;
  variables?: Doc;
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
    const agg = new Aggregator(guardPipeline(toPlain(pipeline) as Doc[]), {
      idKey: '_id',
      collectionResolver,
      variables: { NOW: source.now, ...(source.variables ?? {}) },
    });
    return agg.run(input) as Doc[];
  } catch (err) {
    if (err instanceof DevDbError) throw err;
    const message = err instanceof Error ? err.message : String(err);
    throw new DevDbError(ErrorCode.Location40324, `PlanExecutor error during aggregation :: caused by :: ${message}`);
  }
}
