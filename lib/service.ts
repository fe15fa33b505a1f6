/** A running HTTP service (a subgraph or the gateway), as returned by its start function. */
export interface RunningService {
  /** Short name, e.g. `profile` or `gateway`. */
  name: string;
  /** Its GraphQL endpoint, with the port actually bound: `http://host:port/graphql`. */
  url: string;
  /** The port actually bound (useful when started with port 0). */
  port: number;
  /** Graceful stop: closes websockets, stops accepting requests, lets in-flight ones finish. */
  stop(): Promise<void>;
}

/**
 * The host to put in a service's URL: a wildcard bind address is reached on the
 * loopback address (not `localhost`, which may resolve to ::1 first while the
 * service listens on IPv4 only); IPv6 literals get brackets.
 */
export function urlHost(bindHost: string): string {
  if (bindHost === '0.0.0.0' || bindHost === '::' || bindHost === '') return '127.0.0.1';
  return bindHost.includes(':') ? `[${bindHost}]` : bindHost;
}
