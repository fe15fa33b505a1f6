/**
 * MongoDB's `$jsonSchema` (draft 4 with `bsonType`; https://www.mongodb.com/docs/manual/reference/operator/query/jsonSchema/),
 * compiled once into a predicate over stored documents, so BSON number types (int, long, double,
 * decimal) are told apart. Keywords MongoDB does not support ($ref, $schema, default, definitions,
 * format, id) are refused as MongoDB refuses them.
 */
import { DevDbError, ErrorCode } from '../errors.js';
import { compareValues } from './compare.js';
import { bsonType, isPlainObject, keyOf, numKind, toNumber, type Doc } from './values.js';

type Check = (v: unknown) => boolean;

const UNSUPPORTED = new Set(['$ref', '$schema', 'default', 'definitions', 'format', 'id']);
const ANNOTATIONS = new Set(['title', 'description']);

/** The BSON type alias of a stored value ($type's names). */
function bsonTypeName(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  const kind = numKind(v);
  if (kind) return kind === 'decimal' ? 'decimal' : kind;
  switch (typeof v) {
    case 'string': return 'string';
    case 'boolean': return 'bool';
    default: break;
  }
  if (Array.isArray(v)) return 'array';
  if (v instanceof Date) return 'date';
  if (v instanceof RegExp) return 'regex';
  switch (bsonType(v)) {
    case 'ObjectId': return 'objectId';
    case 'Binary': case 'UUID': return 'binData';
    case 'Timestamp': return 'timestamp';
    case 'BSONRegExp': return 'regex';
    case 'MinKey': return 'minKey';
    case 'MaxKey': return 'maxKey';
    case 'Code': return 'javascript';
    default: return 'object';
  }
}

function hasBsonType(v: unknown, name: string): boolean {
  const actual = bsonTypeName(v);
  if (name === 'number') return ['int', 'long', 'double', 'decimal'].includes(actual);
  return actual === name;
}

/** JSON Schema `type` names over BSON values (MongoDB has no `integer`). */
function hasJsonType(v: unknown, name: string): boolean {
  const actual = bsonTypeName(v);
  switch (name) {
    case 'object': return actual === 'object';
    case 'array': return actual === 'array';
    case 'number': return ['int', 'long', 'double', 'decimal'].includes(actual);
    case 'boolean': return actual === 'bool';
    case 'string': return actual === 'string';
    case 'null': return actual === 'null';
    default: throw new DevDbError(ErrorCode.BadValue, `Unknown type name alias: ${name}`);
  }
}

function parseError(message: string): DevDbError {
  return new DevDbError(ErrorCode.FailedToParse, message);
}

function names(v: unknown, keyword: string): string[] {
  const list = Array.isArray(v) ? v : [v];
  if (!list.every((x) => typeof x === 'string')) throw parseError(`$jsonSchema keyword '${keyword}' must be a string or an array of strings`);
  return list as string[];
}

function num(v: unknown, keyword: string): number {
  const n = toNumber(v);
  if (Number.isNaN(n)) throw parseError(`$jsonSchema keyword '${keyword}' must be a number`);
  return n;
}

function schemas(v: unknown, keyword: string): Check[] {
  if (!Array.isArray(v) || v.length === 0) throw parseError(`$jsonSchema keyword '${keyword}' must be a non-empty array`);
  return v.map(compileSchema);
}

function compileSchema(schema: unknown): Check {
  if (!isPlainObject(schema)) throw parseError('$jsonSchema must be an object');
  const checks: Check[] = [];
  const onType = (type: 'object' | 'array' | 'string' | 'number', check: Check): void => {
    checks.push((v) => (type === 'number' ? numKind(v) === undefined : bsonTypeName(v) !== type) || check(v));
  };
  for (const [keyword, arg] of Object.entries(schema)) {
    if (UNSUPPORTED.has(keyword)) throw parseError(`$jsonSchema keyword '${keyword}' is not currently supported`);
    if (ANNOTATIONS.has(keyword)) continue;
    switch (keyword) {
      case 'bsonType': { const list = names(arg, keyword); checks.push((v) => list.some((n) => hasBsonType(v, n))); break; }
      case 'type': { const list = names(arg, keyword); checks.push((v) => list.some((n) => hasJsonType(v, n))); break; }
      case 'enum': {
        if (!Array.isArray(arg) || arg.length === 0) throw parseError("$jsonSchema keyword 'enum' must be a non-empty array");
        const keys = new Set(arg.map(keyOf));
        checks.push((v) => keys.has(keyOf(v)));
        break;
      }
      case 'allOf': { const list = schemas(arg, keyword); checks.push((v) => list.every((c) => c(v))); break; }
      case 'anyOf': { const list = schemas(arg, keyword); checks.push((v) => list.some((c) => c(v))); break; }
      case 'oneOf': { const list = schemas(arg, keyword); checks.push((v) => list.filter((c) => c(v)).length === 1); break; }
      case 'not': { const c = compileSchema(arg); checks.push((v) => !c(v)); break; }
      case 'required': { const list = names(arg, keyword); onType('object', (v) => list.every((f) => (v as Doc)[f] !== undefined)); break; }
      case 'properties': {
        if (!isPlainObject(arg)) throw parseError("$jsonSchema keyword 'properties' must be an object");
        const props = Object.entries(arg).map(([f, s]) => [f, compileSchema(s)] as const);
        onType('object', (v) => props.every(([f, c]) => (v as Doc)[f] === undefined || c((v as Doc)[f])));
        break;
      }
      case 'patternProperties': {
        if (!isPlainObject(arg)) throw parseError("$jsonSchema keyword 'patternProperties' must be an object");
        const pats = Object.entries(arg).map(([p, s]) => [new RegExp(p, 'u'), compileSchema(s)] as const);
        onType('object', (v) => Object.entries(v as Doc).every(([f, x]) => pats.every(([re, c]) => !re.test(f) || c(x))));
        break;
      }
      case 'additionalProperties': {
        const declared = new Set(Object.keys(isPlainObject(schema.properties) ? schema.properties : {}));
        const patterns = Object.keys(isPlainObject(schema.patternProperties) ? schema.patternProperties : {}).map((p) => new RegExp(p, 'u'));
        const extra = (f: string): boolean => !declared.has(f) && !patterns.some((re) => re.test(f));
        if (arg === true) break;
        const c: Check = arg === false ? () => false : compileSchema(arg);
        onType('object', (v) => Object.entries(v as Doc).every(([f, x]) => !extra(f) || c(x)));
        break;
      }
      case 'minProperties': { const n = num(arg, keyword); onType('object', (v) => Object.keys(v as Doc).length >= n); break; }
      case 'maxProperties': { const n = num(arg, keyword); onType('object', (v) => Object.keys(v as Doc).length <= n); break; }
      case 'dependencies': {
        if (!isPlainObject(arg)) throw parseError("$jsonSchema keyword 'dependencies' must be an object");
        const deps = Object.entries(arg).map(([f, d]) => [f, Array.isArray(d) ? ((v: unknown) => (d as string[]).every((g) => (v as Doc)[g] !== undefined)) : compileSchema(d)] as const);
        onType('object', (v) => deps.every(([f, c]) => (v as Doc)[f] === undefined || c(v)));
        break;
      }
      case 'minimum': case 'maximum': {
        const bound = num(arg, keyword);
        const exclusive = schema[keyword === 'minimum' ? 'exclusiveMinimum' : 'exclusiveMaximum'] === true;
        const sign = keyword === 'minimum' ? 1 : -1;
        onType('number', (v) => {
          const c = compareValues(v, bound) * sign;
          return exclusive ? c > 0 : c >= 0;
        });
        break;
      }
      case 'exclusiveMinimum': case 'exclusiveMaximum': break;
      case 'multipleOf': { const n = num(arg, keyword); onType('number', (v) => toNumber(v) % n === 0); break; }
      case 'minLength': { const n = num(arg, keyword); onType('string', (v) => [...(v as string)].length >= n); break; }
      case 'maxLength': { const n = num(arg, keyword); onType('string', (v) => [...(v as string)].length <= n); break; }
      case 'pattern': {
        if (typeof arg !== 'string') throw parseError("$jsonSchema keyword 'pattern' must be a string");
        const re = new RegExp(arg, 'u');
        onType('string', (v) => re.test(v as string));
        break;
      }
      case 'items': {
        if (Array.isArray(arg)) {
          const list = arg.map(compileSchema);
          const additional = schema.additionalItems;
          const rest: Check = additional === false ? () => false : isPlainObject(additional) ? compileSchema(additional) : () => true;
          onType('array', (v) => (v as unknown[]).every((x, i) => (i < list.length ? list[i](x) : rest(x))));
        } else {
          const c = compileSchema(arg);
          onType('array', (v) => (v as unknown[]).every(c));
        }
        break;
      }
      case 'additionalItems': break;
      case 'minItems': { const n = num(arg, keyword); onType('array', (v) => (v as unknown[]).length >= n); break; }
      case 'maxItems': { const n = num(arg, keyword); onType('array', (v) => (v as unknown[]).length <= n); break; }
      case 'uniqueItems': {
        if (arg !== true) break;
        onType('array', (v) => new Set((v as unknown[]).map(keyOf)).size === (v as unknown[]).length);
        break;
      }
      default:
        throw parseError(`Unknown $jsonSchema keyword: ${keyword}`);
    }
  }
  return (v) => checks.every((c) => c(v));
}

/** Compiles a top-level `$jsonSchema`; throws FailedToParse for a schema MongoDB would not accept. */
export function compileJsonSchema(schema: unknown): (doc: Doc) => boolean {
  return compileSchema(schema);
}
