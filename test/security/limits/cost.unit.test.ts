/**
 * The cost estimate counts what an operation may resolve, whatever way its list
 * sizes are given: literal, variable, variable default or schema default.
 */
import { buildSchema, parse, type GraphQLSchema } from 'graphql';
import { beforeAll, describe, expect, it } from 'vitest';
import { composeSupergraph } from '../../../gateway/compose.js';
import { ASSUMED_LIST_SIZE, operationCost } from '../../../gateway/limits/operationCost.js';

const NESTED = (first: string) =>
  `{ accounts${first} { edges { node { people${first} { person { accounts { account { people${first} { personKey } } } } } } } } }`;

describe('operation cost', () => {
  let schema: GraphQLSchema;
  beforeAll(async () => {
    schema = buildSchema(await composeSupergraph());
  });
  const cost = (query: string, variables?: Record<string, unknown>) => operationCost({ schema, document: parse(query), variables });

  it('counts first given as a variable as its value, and as the literal would', () => {
    const literal = cost(NESTED('(first: 100)'));
    const variable = cost(NESTED('(first: $n)').replace('{', 'query ($n: Int) {'), { n: 100 });
    expect(variable).toBe(literal);
    expect(literal).toBeGreaterThan(1_000_000);
  });

  it('counts a missing first as the schema default, and a missing variable as its default', () => {
    // accounts(first: Int = 50), Account.people(first: Int = 100)
    const omitted = cost(NESTED(''));
    expect(omitted).toBe(cost(`{ accounts(first: 50) { edges { node { people(first: 100) { person { accounts { account { people(first: 100) { personKey } } } } } } } } }`));
    const defaulted = cost('query ($n: Int = 7) { accounts(first: $n) { edges { node { name } } } }');
    expect(defaulted).toBe(cost('{ accounts(first: 7) { edges { node { name } } } }'));
  });

  it('multiplies through lists and counts every alias', () => {
    const one = cost('{ accounts(first: 10) { edges { node { name } } } }');
    expect(one).toBe(1 + 10 * (1 + 1 + 1));
    const aliased = cost('{ a: accounts(first: 10) { edges { node { name } } } b: accounts(first: 10) { edges { node { name } } } }');
    expect(aliased).toBe(2 * one);
    // A person's accounts have no size argument: an assumed list.
    const unbounded = cost('{ profiles(first: 1) { edges { node { accounts { account { name } } } } } }');
    // profiles + edges + node + accounts, then each assumed relation's account and name.
    expect(unbounded).toBe(1 + 1 + 1 + 1 + ASSUMED_LIST_SIZE * (1 + 1));
  });

  it('counts fragments where they are spread, and ignores introspection', () => {
    const spread = cost('{ accounts(first: 10) { edges { node { ...A } } } } fragment A on Account { name domain }');
    expect(spread).toBe(cost('{ accounts(first: 10) { edges { node { name domain } } } }'));
    expect(cost('{ __schema { types { name fields { name } } } }')).toBe(0);
  });
});
