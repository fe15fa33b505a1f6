/**
 * `Attributes`: custom attributes sent with one record. The shared `JSON` scalar
 * refuses a bad key while the variables are read, failing the whole call; this
 * one passes the value through and the services check it per record
 * (`normaliseAttributes`), so a bad record is rejected alone. The request limits
 * of the subgraph server bound its size either way.
 */
import { GraphQLScalarType, valueFromASTUntyped } from 'graphql';

export const AttributesScalar = new GraphQLScalarType<unknown, unknown>({
  name: 'Attributes',
  description: 'A JSON object of custom attributes; keys must not start with "$" or contain ".". Checked per record.',
  serialize: (value) => value,
  parseValue: (value) => value,
  parseLiteral: (ast, variables) => valueFromASTUntyped(ast, variables),
});
