/**
 * `npm run start:gateway`: the gateway as its own process. Composes the supergraph
 * from supergraph.yaml with the subgraph URLs from config (PROFILE_URL, ...), then
 * serves http://HOST:GATEWAY_PORT/graphql.
 */
import { composeSupergraph } from '../gateway/compose.js';
import { startPlatformGateway } from '../gateway/startPlatformGateway.js';
import { runPart } from './runPart.js';

await runPart('gateway', 'it checks API keys', async ({ config, logger, databases }) => {
  const { gateway } = await startPlatformGateway({
    config,
    databases,
    supergraphSdl: await composeSupergraph({ routingUrls: config.subgraphUrls }),
    subgraphUrls: config.subgraphUrls,
    port: config.ports.gateway,
    host: config.host,
    logger,
    graphiql: config.mode !== 'production',
  });
  return gateway;
});
