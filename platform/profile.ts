/** `npm run start:profile`: the profile subgraph as its own process. */
import { startProfileSubgraph } from '../subgraphs/profile/server.js';
import { runPart } from './runPart.js';

await runPart('profile subgraph', 'it keeps its data there', ({ config, logger, databases }) =>
  startProfileSubgraph({ databases, security: config.security, port: config.ports.profile, host: config.host, logger }),
);
