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
