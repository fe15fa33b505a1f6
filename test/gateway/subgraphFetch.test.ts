/**
 * The gateway's fetch to subgraphs, against a real HTTP server on port 0:
 * what it sends and answers, compressed answers, and aborts.
 */
import { createServer, Agent, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { createSubgraphFetch } from '../../gateway/subgraphFetch.js';

const servers: Server[] = [];
const agents: Agent[] = [];

async function serve(handler: (req: IncomingMessage, body: string, res: import('node:http').ServerResponse) => void): Promise<string> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => handler(req, body, res));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
}

function subgraphFetch() {
  const agent = new Agent({ keepAlive: true });
  agents.push(agent);
  // The request id comes from the context, as the gateway's identity plugin supplies it.
  return createSubgraphFetch(agent, () => Response as never, (context) => ({ 'x-request-id': (context as { id: string }).id }));
}

afterEach(async () => {
  agents.splice(0).forEach((agent) => agent.destroy());
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

describe('subgraph fetch', () => {
  it('sends the method, headers and body, and answers the status, headers and body', async () => {
    const seen: Array<{ method?: string; headers: IncomingMessage['headers']; body: string }> = [];
    const url = await serve((req, body, res) => {
      seen.push({ method: req.method, headers: req.headers, body });
      res.writeHead(207, { 'content-type': 'application/json', 'x-answer': 'yes' });
      res.end('{"data":{"ok":true}}');
    });
    const response = await subgraphFetch()(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'X-Cdp-Gateway-Token': 't' },
      body: '{"query":"{ ok }"}',
    }, { id: 'r1' });
    expect(response.status).toBe(207);
    expect(response.headers.get('x-answer')).toBe('yes');
    expect(await response.json()).toEqual({ data: { ok: true } });
    expect(seen).toMatchObject([
      { method: 'POST', body: '{"query":"{ ok }"}', headers: { 'x-cdp-gateway-token': 't', 'x-request-id': 'r1', 'content-length': '18' } },
    ]);
  });

  it('decompresses a gzip answer', async () => {
    const url = await serve((_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      res.end(gzipSync('{"data":{"zipped":true}}'));
    });
    const response = await subgraphFetch()(url, { method: 'POST', body: '{}' }, { id: 'r2' });
    expect(response.headers.get('content-encoding')).toBeNull();
    expect(await response.json()).toEqual({ data: { zipped: true } });
  });

  it('rejects with the abort reason when its signal aborts', async () => {
    const url = await serve(() => {
      // Never answers.
    });
    const controller = new AbortController();
    const pending = subgraphFetch()(url, { method: 'POST', body: '{}', signal: controller.signal }, { id: 'r3' });
    controller.abort(new Error('client went away'));
    await expect(pending).rejects.toThrow('client went away');
  });
});
