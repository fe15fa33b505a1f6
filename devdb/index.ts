import { toDevDbLogger, type DevDbLogTarget } from './logger.js';
import { createWireServer } from './server.js';
import { Deployment } from './storage/deployment.js';
import { startTtlMonitor } from './storage/ttl.js';

export interface DevDbOptions {
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Interface to bind; default 127.0.0.1. */
  host?: string;
  /**
   * Where devdb logs (start-up, closed connections, TTL deletions): a structured logger such as pino
   * (each entry as fields and a message), or a function taking text lines. Default: text on stderr.
   */
  logger?: DevDbLogTarget;
  /** Replica set name advertised in `hello`; default 'devdb'. */
  replSetName?: string;
  /** How often the TTL monitor runs, in ms; default 1000. */
  ttlIntervalMs?: number;
  /** Number of change events kept for change streams to resume from; default 100000. */
  changeLogSize?: number;
}

export interface DevDb {
  /** A connection string for `new MongoClient(uri)`; change streams work on it. */
  uri: string;
  port: number;
  stop(): Promise<void>;
}

/** Starts devdb, the in-memory MongoDB-wire-compatible server. Data lives only as long as the process. */
export async function startDevDb(options: DevDbOptions = {}): Promise<DevDb> {
  const host = options.host ?? '127.0.0.1';
  const log = toDevDbLogger(options.logger);
  const setName = options.replSetName ?? 'devdb';
  const deployment = new Deployment({ changeLogSize: options.changeLogSize ?? 100_000, now: () => Date.now(), logger: log });
  const info = { host, port: options.port ?? 0, setName, startedAt: new Date() };
  const server = createWireServer(deployment, info, log);
  const port = await server.listen(options.port ?? 0, host);
  info.port = port;
  const stopTtl = startTtlMonitor(deployment, options.ttlIntervalMs ?? 1000);
  const sweeper = setInterval(() => deployment.cursors.sweep(), 60_000);
  sweeper.unref();
  const uriHost = host.includes(':') ? `[${host}]` : host;
  const uri = `mongodb://${uriHost}:${port}/?directConnection=true`;
  log.info({ uri, replSetName: setName }, 'in-memory MongoDB-compatible server listening (data is lost on exit)');
  let stopped: Promise<void> | undefined;
  return {
    uri,
    port,
    stop: () => {
      stopped ??= (async () => {
        stopTtl();
        clearInterval(sweeper);
        deployment.cursors.killAll();
        await server.close();
      })();
      return stopped;
    },
  };
}
