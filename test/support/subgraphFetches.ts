/** A gateway plugin that records every fetch the gateway makes to a subgraph, to prove a refusal happened at the edge. */
import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';

export interface SubgraphFetches {
  plugin: GatewayPlugin;
  /** URLs fetched so far, in order. */
  readonly urls: readonly string[];
  /** Runs `action` and answers it with the URLs fetched meanwhile. */
  during<T>(action: () => Promise<T>): Promise<{ result: T; fetched: string[] }>;
}

export function recordSubgraphFetches(): SubgraphFetches {
  const urls: string[] = [];
  return {
    plugin: {
      onFetch({ url }) {
        urls.push(url);
      },
    },
    urls,
    async during(action) {
      const from = urls.length;
      const result = await action();
      return { result, fetched: urls.slice(from) };
    },
  };
}
