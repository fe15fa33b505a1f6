/** A process's /metrics on a port of its own, for processes without an HTTP server (the worker). */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../logger.js';
import { urlHost } from '../service.js';
import { METRICS_PATH, renderMetrics } from './registry.js';

export interface RunningMetricsServer {
  url: string;
  stop(): Promise<void>;
}

export async function startMetricsServer(options: { port: number; host: string; logger: Logger }): Promise<RunningMetricsServer> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '/').split('?')[0] !== METRICS_PATH) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`Not found: metrics are at ${METRICS_PATH}\n`);
      return;
    }
    void serveMetrics(res, options.logger);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${urlHost(options.host)}:${port}${METRICS_PATH}`;
  options.logger.info({ url }, 'Metrics listening');
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Answers a scrape; also used by the gateway's own server. */
export async function serveMetrics(res: ServerResponse, logger: Logger): Promise<void> {
  try {
    const { contentType, body } = await renderMetrics();
    res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' }).end(body);
  } catch (error) {
    logger.error({ err: error }, 'Could not render metrics');
    res.writeHead(500, { 'content-type': 'text/plain' }).end('Could not render metrics\n');
  }
}
