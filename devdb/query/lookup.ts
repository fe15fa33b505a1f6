/**
 * `$lookup` with `localField`/`foreignField`, with or without a `pipeline` (MongoDB 5.0+): only
 * the foreign documents whose `foreignField` equals the local value reach the sub-pipeline. mingo
 * runs the sub-pipeline over the whole foreign collection in that form, and hashes the whole
 * foreign collection again for every `$lookup` it runs (once per outer document when nested), so
 * devdb joins on an index built once per command and hands mingo's `$lookup` just the matched
 * documents; every other form goes to mingo unchanged.
 */
import { Lazy, type Iterator } from 'mingo/lazy';
import { $lookup as mingoLookup } from 'mingo/operators/pipeline';
import type { Options } from 'mingo/types';
import { valuesAtPath } from './compare.js';
import { isPlainObject, keyOf, type Doc } from './values.js';

type PipelineOp = (collection: Iterator, expr: unknown, options: Options) => Iterator;

/** Equality keys of a path's values as `$lookup` matches them: array elements each, missing as null. */
function joinKeys(doc: unknown, path: string): string[] {
  const keys: string[] = [];
  for (const value of valuesAtPath(doc, path)) {
    if (Array.isArray(value)) for (const element of value) keys.push(keyOf(element));
    else keys.push(keyOf(value));
  }
  return keys;
}

/** Positions of the foreign documents by join key, built once per foreign collection and field within a command. */
const indexes = new WeakMap<object, Map<string, Map<string, number[]>>>();

function indexOf(foreign: readonly Doc[], field: string): Map<string, number[]> {
  let byField = indexes.get(foreign);
  if (!byField) {
    byField = new Map();
    indexes.set(foreign, byField);
  }
  let index = byField.get(field);
  if (!index) {
    index = new Map();
    foreign.forEach((doc, position) => {
      for (const key of new Set(joinKeys(doc, field))) {
        const positions = index!.get(key);
        if (positions) positions.push(position);
        else index!.set(key, [position]);
      }
    });
    byField.set(field, index);
  }
  return index;
}

export const $lookup: PipelineOp = (collection, expr, options) => {
  const spec = expr as Doc;
  const pipeline = Array.isArray(spec.pipeline) ? (spec.pipeline as Doc[]) : [];
  const joined =
    typeof spec.from === 'string' &&
    typeof spec.localField === 'string' &&
    typeof spec.foreignField === 'string' &&
    typeof spec.as === 'string' &&
    !(isPlainObject(pipeline[0]) && '$documents' in pipeline[0]);
  if (!joined || !options.collectionResolver) return (mingoLookup as PipelineOp)(collection, expr, options);
  const foreign = options.collectionResolver(spec.from as string) as Doc[];
  const index = indexOf(foreign, spec.foreignField as string);
  const { localField, foreignField: _foreignField, ...rest } = spec;
  const as = spec.as as string;
  return collection.map((doc: unknown) => {
    const positions = new Set<number>();
    for (const key of joinKeys(doc, localField as string)) for (const position of index.get(key) ?? []) positions.add(position);
    const matched = [...positions].sort((a, b) => a - b).map((position) => foreign[position]);
    if (pipeline.length === 0) return { ...(doc as Doc), [as]: matched };
    return (mingoLookup as PipelineOp)(Lazy([doc]), { ...rest, from: matched }, options).next().value;
  });
};
