/**
 * The gateway checks each operation's cost before execution; for a document
 * whose cost does not depend on its variables that cost is computed once, and
 * one whose list sizes come from variables is costed for each request.
 */
import { buildSchema, parse, type GraphQLSchema } from 'graphql';
import { beforeAll, describe, expect, it } from 'vitest';
import { composeSupergraph } from '../../gateway/compose.js';
import { createOperationCostCache, operationCost } from '../../gateway/limits/operationCost.js';

describe('operation cost cache', () => {
  let schema: GraphQLSchema;
  beforeAll(async () => {
    schema = buildSchema(await composeSupergraph());
  });

  it('answers a document without variable sizes as computed, once per document and operation', () => {
    const costOf = createOperationCostCache();
    const document = parse('query A { accounts(first: 3) { edges { node { name } } } } query B { accounts(first: 7) { edges { node { name } } } }');
    const a = costOf({ schema, document, operationName: 'A' });
    const b = costOf({ schema, document, operationName: 'B' });
    expect(a).toBe(operationCost({ schema, document, operationName: 'A' }));
    expect(b).toBe(operationCost({ schema, document, operationName: 'B' }));
    expect(b).toBeGreaterThan(a);
    expect(costOf({ schema, document, operationName: 'A' })).toBe(a);
  });

  it('costs a document whose sizes are variables with each request’s values', () => {
    const costOf = createOperationCostCache();
    const document = parse('query ($n: Int) { accounts(first: $n) { edges { node { people(first: $n) { person { firstName } } } } } }');
    const small = costOf({ schema, document, variables: { n: 2 } });
    const large = costOf({ schema, document, variables: { n: 90 } });
    expect(large).toBe(operationCost({ schema, document, variables: { n: 90 } }));
    expect(large).toBeGreaterThan(small * 100);
    expect(costOf({ schema, document, variables: { n: 2 } })).toBe(small);
  });
});
