/**
 * A small GraphQL-over-HTTP client for our own programs that call the platform:
 * the import CLI (through the gateway with an API key), the import job (straight
 * to a subgraph with a gateway token) and the benchmarks. One POST per call,
 * JSON in and out, errors with the server's code in the message.
 */

export interface GraphQLErrorEntry {
  message: string;
  extensions?: { code?: string };
}

export interface GraphQLResponse<T> {
  /** The HTTP status. */
  status: number;
  data: T | null | undefined;
  errors: GraphQLErrorEntry[];
}

/** The server could not be reached at all (no HTTP answer). */
export class GraphQLUnreachableError extends Error {
  constructor(
    readonly url: string,
    cause: unknown,
  ) {
    super(`Cannot reach ${url} (${(cause as Error)?.message ?? String(cause)})`, { cause });
    this.name = 'GraphQLUnreachableError';
  }
}

/** The server answered without data: its first error as `CODE: message`, or the HTTP status. */
export class GraphQLCallError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly errors: readonly GraphQLErrorEntry[],
  ) {
    super(message);
    this.name = 'GraphQLCallError';
  }
}

export type HeadersSource = Record<string, string> | (() => Record<string, string> | Promise<Record<string, string>>);

export interface GraphQLPostOptions {
  headers?: HeadersSource;
  fetch?: typeof fetch;
}

/** One POST of an already serialised `{ query, variables }` body; throws only when there is no HTTP answer. */
export async function postGraphQL<T>(url: string, body: string, options: GraphQLPostOptions = {}): Promise<GraphQLResponse<T>> {
  const extra = typeof options.headers === 'function' ? await options.headers() : options.headers;
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...extra },
      body,
    });
  } catch (error) {
    throw new GraphQLUnreachableError(url, error);
  }
  const json = (await response.json().catch(() => ({}))) as { data?: T | null; errors?: GraphQLErrorEntry[] };
  return { status: response.status, data: json.data, errors: json.errors ?? [] };
}

/** Describes a response without data for an error message: the first error's code and message, or the HTTP status. */
export function describeFailure(response: GraphQLResponse<unknown>): string {
  const first = response.errors[0];
  return first ? `${first.extensions?.code ?? 'ERROR'}: ${first.message}` : `HTTP ${response.status} without data`;
}

export type GraphQLCall = <T>(query: string, variables?: Record<string, unknown>) => Promise<T>;

/** A caller that answers `data`, or throws GraphQLCallError when there are errors or no data. */
export function createGraphQLCall(url: string, options: GraphQLPostOptions = {}): GraphQLCall {
  return async <T>(query: string, variables: Record<string, unknown> = {}): Promise<T> => {
    const response = await postGraphQL<T>(url, JSON.stringify({ query, variables }), options);
    if (response.errors.length > 0 || !response.data) {
      throw new GraphQLCallError(describeFailure(response), response.status, response.errors);
    }
    return response.data;
  };
}
