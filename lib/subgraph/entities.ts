/**
 * `_entities` receives representations straight from its caller. @apollo/subgraph
 * answers a malformed one (not an object, an unknown `__typename`, a missing
 * key field) with a plain Error, which our boundary would hide as an internal
 * error; this guard answers BAD_USER_INPUT instead, before any resolver runs.
 */
import { isUnionType, Kind, type GraphQLSchema, type StringValueNode } from 'graphql';
import { badInput } from '../errors.js';

/** Key fields of each entity type, from its `@key(fields: "...")` directives (simple keys only). */
function entityKeys(schema: GraphQLSchema): Map<string, string[][]> {
  const keys = new Map<string, string[][]>();
  const union = schema.getType('_Entity');
  if (!isUnionType(union)) return keys;
  for (const type of union.getTypes()) {
    const nodes = [type.astNode, ...type.extensionASTNodes];
    const typeKeys: string[][] = [];
    for (const node of nodes) {
      for (const directive of node?.directives ?? []) {
        if (directive.name.value !== 'key') continue;
        const fields = directive.arguments?.find((arg) => arg.name.value === 'fields')?.value;
        if (fields?.kind === Kind.STRING) typeKeys.push((fields as StringValueNode).value.split(/[\s,]+/).filter(Boolean));
      }
    }
    keys.set(type.name, typeKeys);
  }
  return keys;
}

function checkRepresentation(value: unknown, index: number, keys: Map<string, string[][]>): void {
  const where = `representations[${index}]`;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw badInput(`${where} must be an object with __typename and its key fields`);
  }
  const representation = value as Record<string, unknown>;
  const typename = representation.__typename;
  const typeKeys = typeof typename === 'string' ? keys.get(typename) : undefined;
  if (!typeKeys) {
    throw badInput(`${where} has no __typename of an entity of this subgraph (one of ${[...keys.keys()].join(', ')})`);
  }
  const complete = typeKeys.some((fields) =>
    fields.every((field) => typeof representation[field] === 'string' || typeof representation[field] === 'number'),
  );
  if (!complete) {
    throw badInput(`${where} (${typename}) needs its key field${typeKeys[0]?.length === 1 ? '' : 's'} ${typeKeys.map((f) => f.join(' ')).join(' or ')}`);
  }
}

/** Wraps the `_entities` resolver of a subgraph schema in place; returns the schema. */
export function guardEntityRepresentations(schema: GraphQLSchema): GraphQLSchema {
  const field = schema.getQueryType()?.getFields()._entities;
  const keys = entityKeys(schema);
  if (!field?.resolve || keys.size === 0) return schema;
  const resolve = field.resolve;
  field.resolve = (source, args: { representations?: unknown }, context, info) => {
    const representations = args.representations;
    if (!Array.isArray(representations)) throw badInput('representations must be a list');
    representations.forEach((representation, index) => checkRepresentation(representation, index, keys));
    return resolve(source, args, context, info);
  };
  return schema;
}
