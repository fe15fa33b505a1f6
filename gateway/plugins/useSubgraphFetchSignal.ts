/**
 * Silences Node's `MaxListenersExceededWarning` ("11 abort listeners added to
 * [AbortSignal]") for the one signal that causes it, and only that one.
 *
 * Cause: @graphql-tools/executor-http builds one executor per subgraph with one
 * dispose AbortController. A fetch whose execution request carries no signal of
 * its own (every query and mutation here) is given that executor-wide signal,
 * and Node's `http.request({ signal })` adds an abort listener to it for each
 * request in flight, removing it when the request ends. So more than ten
 * concurrent fetches to one subgraph put more than ten listeners on one
 * long-lived signal: a warning, but no leak (the count follows the requests in
 * flight, and drops back to zero). Minimal reproduction, outside the gateway:
 *
 *   const ctrl = new AbortController();
 *   await Promise.all(Array.from({ length: 11 }, () => fetchViaHttpRequest(url, { signal: ctrl.signal })));
 *
 * Node's own long-lived signals opt out of the limit the same way (events.setMaxListeners(0, signal)).
 */
import { setMaxListeners } from 'node:events';
import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';

export function useSubgraphFetchSignal(): GatewayPlugin {
  const unlimited = new WeakSet<AbortSignal>();
  return {
    onFetch({ options }) {
      const signal = options.signal;
      if (!signal || unlimited.has(signal)) return;
      unlimited.add(signal);
      setMaxListeners(0, signal);
    },
  };
}
