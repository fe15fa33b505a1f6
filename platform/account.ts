/** `npm run start:account`: the account subgraph as its own process. */
import { startAccountSubgraph } from '../subgraphs/account/server.js';
import { runPart } from './runPart.js';

await runPart('account subgraph', 'it keeps its data there', ({ config, logger, databases }) =>
  startAccountSubgraph({ databases, security: config.security, port: config.ports.account, host: config.host, logger }),
);
