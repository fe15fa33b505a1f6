/** Plain HTTP GraphQL calls against one subgraph, as the gateway would make them. */
import type { Role } from '../../../lib/auth/roles.js';
import { GATEWAY_TOKEN_HEADER, tokenFor } from './security.js';

export interface GraphQLResponse<TData = Record<string, any>> {
  status: number;
  data?: TData | null;
  errors?: Array<{ message: string; path?: Array<string | number>; extensions?: Record<string, any> }>;
}

export interface RequestOptions {
  /** The sandbox the gateway token names. @default 'default' */
  sandbox?: string;
  /** The role the gateway token carries. @default 'admin' */
  role?: Role;
  /** A token to send instead of a signed one; null sends none. */
  token?: string | null;
  headers?: Record<string, string>;
}

export async function requestHeaders(options: RequestOptions = {}): Promise<Record<string, string>> {
  const token = options.token === undefined ? await tokenFor(options.sandbox ?? 'default', options.role ?? 'admin') : options.token;
  return {
    'content-type': 'application/json',
    ...(token === null ? {} : { [GATEWAY_TOKEN_HEADER]: token }),
    ...options.headers,
  };
}

export async function postGraphQL<TData = Record<string, any>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  options: RequestOptions = {},
): Promise<GraphQLResponse<TData>> {
  const headers = await requestHeaders(options);
  const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  const body = (await response.json()) as Omit<GraphQLResponse<TData>, 'status'>;
  return { status: response.status, ...body };
}

/** Like postGraphQL, but fails the test on any GraphQL error and returns `data`. */
export async function gql<TData = Record<string, any>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  options: RequestOptions = {},
): Promise<TData> {
  const response = await postGraphQL<TData>(url, query, variables, options);
  if (response.errors?.length || !response.data) {
    throw new Error(`GraphQL request failed (${response.status}): ${JSON.stringify(response.errors)}`);
  }
  return response.data;
}
