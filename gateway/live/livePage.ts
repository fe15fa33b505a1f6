/**
 * The live-audience page at `/live`: one HTML file, one script and graphql-ws's
 * browser build (served from node_modules, the version the gateway itself
 * runs), read once at start. No build step and nothing fetched from elsewhere:
 * the page talks only to this gateway's `/graphql`.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';

export const LIVE_PATH = '/live';

interface Asset {
  type: string;
  body: Buffer;
}

const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self' ws: wss:; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

async function loadAssets(): Promise<Map<string, Asset>> {
  const publicFile = (name: string) => readFile(new URL(`./public/${name}`, import.meta.url));
  const require = createRequire(import.meta.url);
  // The package's exports do not list its UMD build; it sits beside package.json.
  const graphqlWsRoot = dirname(require.resolve('graphql-ws/package.json'));
  const [html, script, client] = await Promise.all([
    publicFile('index.html'),
    publicFile('live.js'),
    readFile(join(graphqlWsRoot, 'umd', 'graphql-ws.min.js')),
  ]);
  return new Map([
    [LIVE_PATH, { type: 'text/html; charset=utf-8', body: html }],
    [`${LIVE_PATH}/`, { type: 'text/html; charset=utf-8', body: html }],
    [`${LIVE_PATH}/live.js`, { type: 'text/javascript; charset=utf-8', body: script }],
    [`${LIVE_PATH}/graphql-ws.js`, { type: 'text/javascript; charset=utf-8', body: client }],
  ]);
}

export interface LivePage {
  /** Answers GET/HEAD for the page's paths; false when `path` is not one of them. */
  handle(req: IncomingMessage, res: ServerResponse, path: string): boolean;
}

export async function createLivePage(): Promise<LivePage> {
  const assets = await loadAssets();
  return {
    handle(req, res, path) {
      const asset = assets.get(path);
      if (!asset || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
      res.writeHead(200, { 'content-type': asset.type, 'content-length': asset.body.length, ...SECURITY_HEADERS });
      res.end(req.method === 'HEAD' ? undefined : asset.body);
      return true;
    },
  };
}
