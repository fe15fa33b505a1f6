/** `npm run start:account`: the account subgraph as its own process. */
import { startAccountSubgraph } from '../subgraphs/account/server.js';
import { runSubgraphMain } from './subgraphMain.js';

await runSubgraphMain('account', startAccountSubgraph);
