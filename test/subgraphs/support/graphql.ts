/** Plain HTTP GraphQL calls against one subgraph, as a gateway or client would make them. */
export interface GraphQLResponse<TData = Record<string, any>> {
  status: number;
  data?: TData | null;
  errors?: Array<{ message: string; path?: Array<string | number>; extensions?: Record<string, any> }>;
}

export async function postGraphQL<TData = Record<string, any>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  options: { sandbox?: string; headers?: Record<string, string> } = {},
): Promise<GraphQLResponse<TData>> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...options.headers };
  if (options.sandbox !== undefined) headers['x-sandbox'] = options.sandbox;
  const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  const body = (await response.json()) as Omit<GraphQLResponse<TData>, 'status'>;
  return { status: response.status, ...body };
}

/** Like postGraphQL, but fails the test on any GraphQL error and returns `data`. */
export async function gql<TData = Record<string, any>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  options: { sandbox?: string; headers?: Record<string, string> } = {},
): Promise<TData> {
  const response = await postGraphQL<TData>(url, query, variables, options);
  if (response.errors?.length || !response.data) {
    throw new Error(`GraphQL request failed (${response.status}): ${JSON.stringify(response.errors)}`);
  }
  return response.data;
}
