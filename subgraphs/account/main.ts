/** `tsx subgraphs/account/main.ts`: the account subgraph as its own process. */
import { runSubgraphMain } from '../../lib/subgraph/main.js';
import { startAccountSubgraph } from './server.js';

await runSubgraphMain('account', startAccountSubgraph);
