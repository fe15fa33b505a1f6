import { Query } from './mingoContext.js';
import { DevDbError, ErrorCode } from '../errors.js';
import { toPlain, type Doc } from './values.js';

/** Applies a find projection (inclusion/exclusion, $slice, $elemMatch, positional `.$`) via mingo. */
export function project(docs: Doc[], projection: Doc | undefined, filter: Doc = {}): Doc[] {
  if (!projection || Object.keys(projection).length === 0) return docs;
  const spec = toPlain(projection) as Doc;
  const positional = Object.keys(spec).some((k) => k.endsWith('.$'));
  try {
    if (positional) {
      return new Query(toPlain(filter) as Doc).find(docs.map((d) => toPlain(d) as Doc), spec).all() as Doc[];
    }
    return new Query({}).find(docs, spec).all() as Doc[];
  } catch (err) {
    throw new DevDbError(ErrorCode.BadValue, err instanceof Error ? err.message : String(err));
  }
}
