/**
 * Sends an import's records to the subgraphs' bulk mutations over HTTP, as the
 * import's starter (its sandbox and role) with a gateway token the job signs
 * itself. The subgraphs stay the only writers of their collections.
 */
import { createGatewayTokenSigner, GATEWAY_TOKEN_HEADER } from '../../../lib/auth/gatewayToken.js';
import type { Principal } from '../../../lib/auth/roles.js';
import type { SubgraphName } from '../../../lib/config.js';
import { describeFailure, GraphQLUnreachableError, postGraphQL, type GraphQLResponse } from '../../../lib/graphqlClient.js';
import type { IngestInputs, IngestKind } from './mappings/records.js';

export interface IngestResult {
  index: number;
  status: 'CREATED' | 'UPDATED' | 'MERGED' | 'REJECTED';
  error: { code: string; message: string } | null;
}

export interface IngestionClient {
  send<K extends IngestKind>(kind: K, inputs: ReadonlyArray<IngestInputs[K]>): Promise<IngestResult[]>;
}

/** A whole call failed (not one record): the subgraph is unreachable, or refused the batch. */
export class IngestionError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'IngestionError';
  }
}

interface MutationSpec {
  subgraph: SubgraphName;
  field: string;
  argument: string;
  inputType: string;
}

export const MUTATIONS: Readonly<Record<IngestKind, MutationSpec>> = {
  people: { subgraph: 'profile', field: 'upsertPeople', argument: 'people', inputType: 'PersonInput' },
  events: { subgraph: 'profile', field: 'ingestEvents', argument: 'events', inputType: 'EventInput' },
  accounts: { subgraph: 'account', field: 'upsertAccounts', argument: 'accounts', inputType: 'AccountInput' },
  opportunities: { subgraph: 'account', field: 'upsertOpportunities', argument: 'opportunities', inputType: 'OpportunityInput' },
  accountLinks: { subgraph: 'account', field: 'linkPeopleToAccounts', argument: 'links', inputType: 'AccountPersonLinkInput' },
  opportunityContacts: { subgraph: 'account', field: 'addOpportunityContacts', argument: 'contacts', inputType: 'OpportunityContactInput' },
};

/** Below the subgraphs' 1 MiB body limit; a larger batch is sent in halves. */
const MAX_BODY_BYTES = 900 * 1024;

export interface IngestionClientOptions {
  subgraphUrls: Readonly<Record<SubgraphName, string>>;
  gatewaySecret: string;
  principal: Principal;
  /** Attempts per call when the subgraph is unreachable or answers 5xx. */
  attempts?: number;
  retryDelayMs?: number;
  fetch?: typeof fetch;
}

export function createIngestionClient(options: IngestionClientOptions): IngestionClient {
  const signer = createGatewayTokenSigner(options.gatewaySecret);
  const attempts = options.attempts ?? 4;
  const retryDelayMs = options.retryDelayMs ?? 500;

  const headers = async () => ({ [GATEWAY_TOKEN_HEADER]: await signer.sign(options.principal) });

  const post = async (spec: MutationSpec, body: string): Promise<IngestResult[]> => {
    const url = options.subgraphUrls[spec.subgraph];
    for (let attempt = 1; ; attempt++) {
      let response: GraphQLResponse<Record<string, IngestResult[] | null>>;
      try {
        response = await postGraphQL(url, body, { headers, fetch: options.fetch });
      } catch (error) {
        if (!(error instanceof GraphQLUnreachableError) || attempt >= attempts) {
          throw new IngestionError(`the ${spec.subgraph} subgraph at ${url} could not be reached`, { cause: error });
        }
        await sleep(retryDelayMs * 2 ** (attempt - 1));
        continue;
      }
      if (response.status >= 500 && attempt < attempts) {
        await sleep(retryDelayMs * 2 ** (attempt - 1));
        continue;
      }
      const results = response.data?.[spec.field];
      if (!results) {
        throw new IngestionError(`${spec.field} on the ${spec.subgraph} subgraph refused the batch (${describeFailure(response)})`);
      }
      return results;
    }
  };

  const send = async <K extends IngestKind>(kind: K, inputs: ReadonlyArray<IngestInputs[K]>): Promise<IngestResult[]> => {
    if (inputs.length === 0) return [];
    const spec = MUTATIONS[kind];
    const query = `mutation Ingest($records: [${spec.inputType}!]!) { ${spec.field}(${spec.argument}: $records) { index status error { code message } } }`;
    const body = JSON.stringify({ query, variables: { records: inputs } });
    if (Buffer.byteLength(body) > MAX_BODY_BYTES && inputs.length > 1) {
      const half = Math.ceil(inputs.length / 2);
      const first = await send(kind, inputs.slice(0, half));
      const second = await send(kind, inputs.slice(half));
      return [...first, ...second.map((result) => ({ ...result, index: result.index + half }))];
    }
    const results = await post(spec, body);
    if (results.length !== inputs.length) {
      throw new IngestionError(`${spec.field} answered ${results.length} results for ${inputs.length} records`);
    }
    return results;
  };

  return { send };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
