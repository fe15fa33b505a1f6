/**
 * `GET /healthz`: the gateway is healthy when every subgraph answers its
 * `GET /health` (served at the same origin as its `/graphql` routing URL).
 */
export interface SubgraphHealth {
  ok: boolean;
  /** HTTP status when the subgraph answered. */
  status?: number;
  /** Why the check failed when it did not answer at all: `timeout` or `unreachable` (details go to the log). */
  error?: 'timeout' | 'unreachable';
}

export interface HealthReport {
  status: 'ok' | 'unavailable';
  /** Names of the subgraphs that failed their check. */
  failed: string[];
  subgraphs: Record<string, SubgraphHealth>;
}

export function healthUrlOf(routingUrl: string): string {
  return new URL('/health', routingUrl).toString();
}

export async function checkSubgraphs(
  subgraphUrls: Readonly<Record<string, string>>,
  options: { timeoutMs?: number; fetch?: typeof fetch } = {},
): Promise<HealthReport> {
  const fetchFn = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 2_000;
  const entries = await Promise.all(
    Object.entries(subgraphUrls).map(async ([name, url]): Promise<[string, SubgraphHealth]> => {
      try {
        const response = await fetchFn(healthUrlOf(url), { signal: AbortSignal.timeout(timeoutMs) });
        await response.body?.cancel();
        return [name, { ok: response.ok, status: response.status }];
      } catch (error) {
        // The answer is public: no addresses or internal messages in it.
        return [name, { ok: false, error: error instanceof Error && error.name === 'TimeoutError' ? 'timeout' : 'unreachable' }];
      }
    }),
  );
  const subgraphs = Object.fromEntries(entries);
  const failed = entries.filter(([, health]) => !health.ok).map(([name]) => name);
  return { status: failed.length === 0 ? 'ok' : 'unavailable', failed, subgraphs };
}
