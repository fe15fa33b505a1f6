/** The account subgraph on a free port with its own databases, and the mutations the suites send. */
import type { IdGenerator } from '../../lib/subgraph/ids.js';
import { startAccountSubgraph } from '../../subgraphs/account/server.js';
import { gql, postGraphQL, type GraphQLResponse } from '../subgraphs/support/graphql.js';
import { startSubgraphSuite, type SubgraphSuite } from '../subgraphs/support/subgraphSuite.js';

export const UPSERT_ACCOUNTS = /* GraphQL */ `
  mutation($accounts: [AccountInput!]!) {
    upsertAccounts(accounts: $accounts) {
      index status error { code message field }
      account { id name domain industry annualRevenue employees country type attributes sourceKeys createdAt updatedAt parent { id name } }
    }
  }
`;

export const UPSERT_OPPORTUNITIES = /* GraphQL */ `
  mutation($opportunities: [OpportunityInput!]!) {
    upsertOpportunities(opportunities: $opportunities) {
      index status error { code message field }
      opportunity { id name stage amount currency closeDate isClosed isWon attributes sourceKeys account { id name } }
    }
  }
`;

export const LINK = /* GraphQL */ `
  mutation($links: [AccountPersonLinkInput!]!) {
    linkPeopleToAccounts(links: $links) {
      index status error { code message field }
      relation { id isPrimary jobRole personKey sourceKey account { id name } person { id } }
    }
  }
`;

export const ADD_CONTACTS = /* GraphQL */ `
  mutation($contacts: [OpportunityContactInput!]!) {
    addOpportunityContacts(contacts: $contacts) {
      index status error { code message field }
      contact { id role isPrimary personKey sourceKey opportunity { id name } person { id } }
    }
  }
`;

export const PROFILES = /* GraphQL */ `
  query($representations: [_Any!]!) {
    _entities(representations: $representations) {
      ... on Profile {
        id
        account { id name }
        accounts { isPrimary jobRole personKey account { id name } }
        opportunities { role isPrimary opportunity { id name account { name } } }
      }
    }
  }
`;

/** A Profile representation as the gateway sends it: the key and the @requires'd linkKeys. */
export const profileRep = (id: string, linkKeys: string[] = [`id:${id}`]) => ({ __typename: 'Profile', id, linkKeys });

export interface AccountSuite {
  suite: SubgraphSuite;
  /** Runs a query in `sandbox`; fails on any GraphQL error. */
  run<T = Record<string, any>>(query: string, variables: Record<string, unknown>): Promise<T>;
  /** Runs a query in `sandbox` and returns the raw response, errors included. */
  post(query: string, variables: Record<string, unknown>): Promise<GraphQLResponse>;
}

/** Ids in creation order even within one millisecond, so tests can assert orders. */
function sequentialIds(): IdGenerator {
  let next = 0;
  return (prefix) => `${prefix}_${String(++next).padStart(26, '0')}`;
}

export async function startAccountSuite(sandbox: string, options: Parameters<typeof startSubgraphSuite>[1] = {}): Promise<AccountSuite> {
  const ids = sequentialIds();
  const suite = await startSubgraphSuite((start) => startAccountSubgraph({ ...start, ids }), options);
  return {
    suite,
    run: (query, variables) => gql(suite.url, query, variables, { sandbox }),
    post: (query, variables) => postGraphQL(suite.url, query, variables, { sandbox }),
  };
}
