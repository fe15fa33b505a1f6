/** One HTTP exchange with an external API (a destination or a source): a timeout on every request, network errors as ConnectorFailures. */
import { asConnectorFailure } from './failures.js';

export type FetchFn = typeof fetch;

export interface HttpAnswer {
  status: number;
  headers: Headers;
  /** Parsed JSON, the text when it is not JSON, or null when empty. */
  body: unknown;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

export async function send(fetchFn: FetchFn, url: string, init: RequestInit, timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS): Promise<HttpAnswer> {
  let response: Response;
  let text: string;
  try {
    response = await fetchFn(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    text = await response.text();
  } catch (error) {
    throw asConnectorFailure(error);
  }
  let body: unknown = null;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  return { status: response.status, headers: response.headers, body };
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Joins a base URL and a path without doubling or dropping slashes. */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}
