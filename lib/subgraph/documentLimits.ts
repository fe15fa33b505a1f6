/**
 * Cheap checks of a request before graphql-js sees it, each one linear scan:
 * - the document's nesting: graphql-js parses recursively, so a document nested
 *   thousands of levels deep would exhaust the stack;
 * - the width of objects in the variables: graphql-js quotes the whole object in
 *   every error about one of its fields, so an object with 50,000 unknown keys
 *   would cost seconds of CPU and megabytes of messages.
 */
import { GraphQLError } from 'graphql';
import { ErrorCode } from '../errors.js';

/** Far beyond any real selection or literal; the gateway's own depth limit for clients is 12. */
export const MAX_DOCUMENT_NESTING = 128;

export function documentNestingError(query: string, max = MAX_DOCUMENT_NESTING): GraphQLError | undefined {
  let depth = 0;
  for (let i = 0; i < query.length; i++) {
    const char = query[i];
    if (char === '#') {
      while (i < query.length && query[i] !== '\n' && query[i] !== '\r') i++;
    } else if (char === '"') {
      if (query.startsWith('"""', i)) {
        const end = query.indexOf('"""', i + 3);
        i = end === -1 ? query.length : end + 2;
      } else {
        for (i++; i < query.length && query[i] !== '"' && query[i] !== '\n'; i++) if (query[i] === '\\') i++;
      }
    } else if (char === '{' || char === '[' || char === '(') {
      if (++depth > max) {
        return new GraphQLError(`The document is nested deeper than ${max} levels`, { extensions: { code: 'GRAPHQL_PARSE_FAILED' } });
      }
    } else if (char === '}' || char === ']' || char === ')') {
      depth--;
    }
  }
  return undefined;
}

/** No input type or JSON value here needs more keys in one object. */
export const MAX_VARIABLE_OBJECT_KEYS = 1_000;

export function variablesShapeError(variables: unknown, maxKeys = MAX_VARIABLE_OBJECT_KEYS): GraphQLError | undefined {
  // An explicit stack: variables may be nested far deeper than the call stack allows.
  const pending: unknown[] = [variables];
  while (pending.length > 0) {
    const value = pending.pop();
    if (value === null || typeof value !== 'object') continue;
    if (Array.isArray(value)) {
      for (const item of value) pending.push(item);
      continue;
    }
    let keys = 0;
    for (const key in value) {
      if (++keys > maxKeys) {
        return new GraphQLError(`An object in the variables has more than ${maxKeys} keys`, { extensions: { code: ErrorCode.BadUserInput } });
      }
      pending.push((value as Record<string, unknown>)[key]);
    }
  }
  return undefined;
}

/** Both checks, as the transports run them. */
export function requestShapeError(request: { query: string; variables?: unknown }): GraphQLError | undefined {
  return documentNestingError(request.query) ?? variablesShapeError(request.variables);
}
