/** `npm run start:destination`: the destination subgraph as its own process. */
import { startDestinationSubgraph } from '../subgraphs/destination/server.js';
import { runPart } from './runPart.js';

await runPart('destination subgraph', 'it keeps its data there', ({ config, logger, databases }) =>
  startDestinationSubgraph({ databases, security: config.security, port: config.ports.destination, host: config.host, logger }),
);
